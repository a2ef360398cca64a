import QuiverTensor

/// One AdapterFusion layer's projections.
public struct FusionLayerWeights: Sendable {
    public let query: LinearWeights?
    public let key: LinearWeights?
    /// value is (hidden, hidden), no bias.
    public let value: FloatBuffer?
    /// The query and key products folded into one, when the fusion has both: the scores need only `Kᵀq`, so
    /// `(x·W_qᵀ + b_q)·W_k = x·(W_kᵀ·W_q)ᵀ + b_q·W_k` — one (hidden, hidden) product per row instead of two.
    public let scoring: LinearWeights?
    /// `value` as a Linear layer with a zero bias, for the encoder's packed products (`LinearWeights.forward`).
    let valueLinear: LinearWeights?

    public init(query: LinearWeights?, key: LinearWeights?, value: FloatBuffer?) {
        self.query = query
        self.key = key
        self.value = value
        scoring = query.flatMap { query in key.map { Self.fold(query: query, key: $0) } }
        valueLinear = value.map { value in
            let h = Int(Double(value.count).squareRoot())
            precondition(h * h == value.count, "FusionLayerWeights: the value projection is not square")
            return LinearWeights(weight: value, bias: FloatBuffer(count: h), inFeatures: h, outFeatures: h)
        }
    }

    /// weight (h, h) = W_kᵀ · W_q, bias (h) = b_q · W_k.
    static func fold(query: LinearWeights, key: LinearWeights) -> LinearWeights {
        let h = query.outFeatures
        let weight = FloatBuffer(count: h * h), bias = FloatBuffer(count: h)
        Gemm.sgemm(
            .transposed, .normal, m: h, n: h, k: h, a: key.weight.readPointer, lda: h, b: query.weight.readPointer, ldb: h,
            c: weight.pointer, ldc: h)
        Gemm.sgemm(
            .normal, .normal, m: 1, n: h, k: h, a: query.bias.readPointer, lda: h, b: key.weight.readPointer, ldb: h,
            c: bias.pointer, ldc: h)
        return LinearWeights(weight: weight, bias: bias, inFeatures: h, outFeatures: h)
    }
}

/// AdapterFusion: at each site, attention over the up-projections of N frozen bottleneck adapters.
public final class Fusion: Sendable {
    public let config: FusionConfig
    public let members: [BottleneckAdapter]
    public let layers: [AdapterSite: FusionLayerWeights]

    public init(config: FusionConfig, members: [BottleneckAdapter], weights file: SafetensorsFile, hiddenSize h: Int) throws {
        var names: [AdapterSite: [String: String]] = [:]
        for tensor in file.header.tensors {
            guard case .fusion(let layer, let location, _, let projection, let parameter) = AdapterTensor.parse(tensor.name) else {
                throw QuiverError(.invalidInput, "\(file.source): tensor '\(tensor.name)' is not a fusion tensor")
            }
            names[AdapterSite(layer: layer, location: SublayerLocation(location)), default: [:]]["\(projection.rawValue).\(parameter)"] = tensor.name
        }
        var layers: [AdapterSite: FusionLayerWeights] = [:]
        for (site, parts) in names {
            for (index, member) in members.enumerated() where member.modules[site] == nil {
                throw QuiverError(.incompatible, "\(file.source): fusion at \(site) but member \(index + 1) has no adapter there")
            }
            func linear(_ projection: String) throws -> LinearWeights? {
                guard let weight = parts["\(projection).weight"], let bias = parts["\(projection).bias"] else { return nil }
                return LinearWeights(weight: try file.floatBuffer(weight, shape: [h, h]), bias: try file.floatBuffer(bias, shape: [h]), inFeatures: h, outFeatures: h)
            }
            let layer = FusionLayerWeights(
                query: config.query ? try linear("query") : nil, key: config.key ? try linear("key") : nil,
                value: config.value ? try parts["value.weight"].map { try file.floatBuffer($0, shape: [h, h]) } : nil)
            if (config.query && layer.query == nil) || (config.key && layer.key == nil) || (config.value && layer.value == nil) {
                throw QuiverError(.invalidInput, "\(file.source): fusion at \(site) lacks a query, key or value the config enables")
            }
            layers[site] = layer
        }
        self.config = config
        self.members = members
        self.layers = layers
    }
}
