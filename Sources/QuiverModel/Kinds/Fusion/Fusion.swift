import QuiverTensor

/// One AdapterFusion layer's projections.
public struct FusionLayerWeights: Sendable {
    public let query: LinearWeights?
    public let key: LinearWeights?
    /// value is (hidden, hidden), no bias.
    public let value: FloatBuffer?
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
