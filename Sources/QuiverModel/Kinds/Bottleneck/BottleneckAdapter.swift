import QuiverTensor

/// One bottleneck module: `up(act(down(x)))·scaling`, with the optional LayerNorms the config asks for.
public struct BottleneckModule: Sendable {
    /// down is (bottleneck, hidden).
    public let down: LinearWeights
    /// up is (hidden, bottleneck).
    public let up: LinearWeights
    public let normBefore: LayerNormWeights?
    public let normAfter: LayerNormWeights?
    /// A learned scalar (count 1) or per-channel vector (count hidden); nil for a fixed factor.
    public let learnedScaling: FloatBuffer?

    public var bottleneckSize: Int { down.outFeatures }
}

/// A bottleneck adapter (`seq_bn`, `double_seq_bn` and every variant of their flags), as the
/// `adapters` library computes it.
public final class BottleneckAdapter: Sendable {
    /// The adapter's own LayerNorms (`ln_before`, `ln_after`) are `nn.LayerNorm` with PyTorch's default epsilon.
    static let adapterNormEpsilon: Float = 1e-5

    public let config: BottleneckConfig
    public let modules: [AdapterSite: BottleneckModule]

    public init(config: BottleneckConfig, modules: [AdapterSite: BottleneckModule]) {
        self.config = config
        self.modules = modules
    }

    /// Loads the modules from an `adapters` library weights file (names from the one tensor table).
    public convenience init(config: BottleneckConfig, weights file: SafetensorsFile, hiddenSize: Int) throws {
        var components: [AdapterSite: [String: String]] = [:]
        for tensor in file.header.tensors {
            guard case .bottleneck(let layer, let location, _, let component) = AdapterTensor.parse(tensor.name) else {
                throw QuiverError(.invalidInput, "\(file.source): tensor '\(tensor.name)' is not a bottleneck adapter tensor")
            }
            components[AdapterSite(layer: layer, location: SublayerLocation(location)), default: [:]][component] = tensor.name
        }
        var modules: [AdapterSite: BottleneckModule] = [:]
        for (site, names) in components {
            modules[site] = try Self.module(site: site, names: names, config: config, file: file, hiddenSize: hiddenSize)
        }
        self.init(config: config, modules: modules)
    }

    private static func module(
        site: AdapterSite, names: [String: String], config: BottleneckConfig, file: SafetensorsFile, hiddenSize h: Int
    ) throws -> BottleneckModule {
        var used = Set<String>()
        func name(_ component: String) throws -> String {
            guard let name = names[component] else {
                throw QuiverError(.invalidInput, "\(file.source): \(site) lacks '\(component)'")
            }
            used.insert(component)
            return name
        }
        func norm(_ prefix: String) throws -> LayerNormWeights {
            LayerNormWeights(
                gamma: try file.floatBuffer(try name(prefix + ".weight"), shape: [h]),
                beta: try file.floatBuffer(try name(prefix + ".bias"), shape: [h]), epsilon: adapterNormEpsilon)
        }
        // With ln_before the library's `adapter_down` Sequential is (LayerNorm, Linear, act): the Linear
        // moves to index 1, and the LayerNorm is saved twice (`adapter_down.0` and `adapter_norm_before`).
        var normBefore: LayerNormWeights?
        let linearIndex: Int
        if try names["adapter_down.0.weight"].map({ try file.info($0).shape.count }) == 1 {
            normBefore = try norm("adapter_down.0")
            linearIndex = 1
            if names["adapter_norm_before.weight"] != nil {
                let twin = try norm("adapter_norm_before")
                guard twin.gamma.array == normBefore!.gamma.array, twin.beta.array == normBefore!.beta.array else {
                    throw QuiverError(.invalidInput, "\(file.source): \(site): adapter_norm_before and adapter_down.0 differ")
                }
            }
        } else if names["adapter_norm_before.weight"] != nil {
            normBefore = try norm("adapter_norm_before")
            linearIndex = 0
        } else {
            linearIndex = 0
        }
        guard (normBefore != nil) == config.layerNormBefore else {
            throw QuiverError(.invalidInput, "\(file.source): \(site): ln_before is \(config.layerNormBefore) but the weights \(normBefore == nil ? "lack" : "have") its LayerNorm")
        }
        let downWeight = try name("adapter_down.\(linearIndex).weight")
        let downShape = try file.info(downWeight).shape
        guard downShape.count == 2, downShape[1] == h, downShape[0] >= 1 else {
            throw QuiverError(.invalidInput, "\(file.source): tensor '\(downWeight)' has shape \(downShape), expected [bottleneck, \(h)]")
        }
        let b = downShape[0]
        let down = LinearWeights(
            weight: try file.floatBuffer(downWeight), bias: try file.floatBuffer(try name("adapter_down.\(linearIndex).bias"), shape: [b]),
            inFeatures: h, outFeatures: b)
        let up = LinearWeights(
            weight: try file.floatBuffer(try name("adapter_up.weight"), shape: [h, b]),
            bias: try file.floatBuffer(try name("adapter_up.bias"), shape: [h]), inFeatures: b, outFeatures: h)
        let normAfter = config.layerNormAfter ? try norm("adapter_norm_after") : nil
        var learnedScaling: FloatBuffer?
        switch config.scaling {
        case .fixed: break
        case .learned: learnedScaling = try file.floatBuffer(try name("scaling"), shape: [1])
        case .channel: learnedScaling = try file.floatBuffer(try name("scaling"), shape: [h])
        }
        if let extra = Set(names.keys).subtracting(used).sorted().first {
            throw QuiverError(.invalidInput, "\(file.source): \(site): unexpected tensor '\(names[extra]!)' for this config")
        }
        return BottleneckModule(down: down, up: up, normBefore: normBefore, normAfter: normAfter, learnedScaling: learnedScaling)
    }

    /// The widest bottleneck (for scratch sizing).
    var largestBottleneck: Int { modules.values.map(\.bottleneckSize).max() ?? 0 }
}

extension BottleneckConfig: EncoderAdapterConfig {
    public func adapter(weights: SafetensorsFile, base: BertConfig) throws -> any EncoderAdapter {
        try BottleneckAdapter(config: self, weights: weights, hiddenSize: base.hiddenSize)
    }
}

/// At the sublayers: `LayerNorm(projected + residual)` becomes the adapter's pre-forward, up-projection and
/// post-forward (`BottleneckMath`; `BottleneckReference` is its slow twin).
extension BottleneckAdapter: EncoderAdapter {
    public var firstLayer: Int? { modules.keys.map(\.layer).min() }
    public func scratchPerRow(hiddenSize h: Int) -> Int { 5 * h + largestBottleneck }
    public var actsAtSublayers: Bool { true }
    public func replaces(_ site: AdapterSite) -> Bool { modules[site] != nil }

    public func sublayerOutput(at site: AdapterSite, _ block: inout SublayerBlock) {
        guard let module = modules[site] else { return block.standard() }
        let math = block.math
        let x = block.arena.take(math.count), residual = block.arena.take(math.count), up = block.arena.take(math.count)
        let work = block.arena.take(block.work(module.bottleneckSize))
        math.preForward(config, h: block.projected, input: block.input, norm: block.norm, x: x, residual: residual)
        math.upProjection(module, config, x: x, up: up, work: work)
        math.finish(module, config, up: up, residual: residual)
        math.postForward(config, hidden: up, input: block.input, norm: block.norm, output: block.output)
    }

    public func referenceSublayerOutput(
        at site: AdapterSite, projected: [Double], residual: [Double], norm: LayerNormWeights
    ) -> [Double]? {
        Self.referenceStack([self], at: site, projected: projected, residual: residual, norm: norm, rows: projected.count / norm.size)
    }
}
