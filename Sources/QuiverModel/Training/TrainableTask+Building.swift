import QuiverTensor

/// Tensor names as a trained model writes them: the `adapters` library's layout (`{prefix}encoder.layer.{i}.…`,
/// `heads.{name}.{index}.…`) or PEFT's (`base_model.model.{prefix}encoder.layer.{i}.….lora_A.weight`). Each kind adds
/// its names in its folder.
struct TensorNaming: Sendable {
    /// The family whose module names the tensors take (`EncoderFamily`'s spellings).
    var family: EncoderFamily
    /// "bert." (the family's prefix) for folders saved from `…AdapterModel` (and PEFT's sequence classifier), "" from
    /// a plain model.
    var prefix: String
    var peft: Bool

    init(family: EncoderFamily, prefix: String? = nil, peft: Bool = false) {
        self.family = family
        self.prefix = prefix ?? family.checkpointPrefix
        self.peft = peft
    }

    /// `{prefix}encoder.layer.L` (`transformer.layer.L` for DistilBERT).
    func layer(_ index: Int) -> String { "\(prefix)\(family.layerContainer).\(index)" }

    /// The module adapters hang on at `location`, within a layer.
    func location(_ location: SublayerLocation) -> String {
        family.adapterModule(location == .attentionOutput ? .attentionOutput : .output)
    }
}

/// Builds a model's parameters and export plan: fresh tensors initialised as the library initialises them
/// (seeded), or copies of loaded ones.
struct ModelBuilder {
    var parameters: [Parameter] = []
    var export = ExportPlan()
    var random: SeededGenerator
    let hidden: Int
    /// The standard deviation of a new head's weights: the base's `initializer_range`, as the library's heads.
    let headDeviation: Float

    init(seed: UInt64, hidden: Int, initializerRange: Double = 0.02) {
        random = SeededGenerator(seed: seed)
        self.hidden = hidden
        headDeviation = Float(initializerRange)
    }

    mutating func parameter(
        _ name: String, aliases: [String] = [], shape: [Int], values: [Float], decays: Bool, file: String
    ) -> Weight {
        let parameter = Parameter(name: name, aliases: aliases, shape: shape, value: FloatBuffer(values), decays: decays)
        parameters.append(parameter)
        export.add(parameter, to: file)
        return Weight(parameter)
    }

    /// A trainable copy of `buffer`, or the frozen buffer itself.
    mutating func weight(
        _ name: String, aliases: [String] = [], shape: [Int], buffer: FloatBuffer, decays: Bool, trainable: Bool,
        file: String?
    ) -> Weight {
        guard trainable, let file else { return Weight(frozen: buffer) }
        return parameter(name, aliases: aliases, shape: shape, values: buffer.array, decays: decays, file: file)
    }

    // MARK: - Initialisation as the library does it

    /// `init_bert_weights`: normal(0, 0.02) weights, zero biases.
    mutating func normal(_ count: Int, _ deviation: Float = 0.02) -> [Float] {
        random.normal(count: count, standardDeviation: deviation)
    }

    /// `kaiming_uniform_(a=√5)`: uniform in ±1/√fanIn (LoRA's A).
    mutating func kaimingUniform(_ count: Int, fanIn: Int) -> [Float] {
        let bound = 1 / Double(fanIn).squareRoot()
        return (0..<count).map { _ in Float((random.nextUnit() * 2 - 1) * bound) }
    }

    // MARK: - Bottleneck

    /// One site of a bottleneck adapter, from loaded weights (`loaded`) or fresh with `bottleneck` units.
    mutating func bottleneckModule(
        _ site: AdapterSite, adapter: String, config: BottleneckConfig, loaded: BottleneckModule?, bottleneck: Int,
        trainable: Bool, naming: TensorNaming, file: String?
    ) -> TrainBottleneckModule {
        let h = hidden
        let b = loaded?.bottleneckSize ?? bottleneck
        func name(_ component: String) -> String { naming.bottleneck(site, adapter: adapter, component) }
        func tensor(_ component: String, aliases: [String] = [], shape: [Int], fresh: [Float], loaded: FloatBuffer?, decays: Bool) -> Weight {
            weight(name(component), aliases: aliases.map(name), shape: shape, buffer: loaded ?? FloatBuffer(fresh), decays: decays, trainable: trainable, file: file)
        }
        var normBefore: TrainNorm?
        var downIndex = 0
        if config.layerNormBefore {
            normBefore = TrainNorm(
                gamma: tensor("adapter_down.0.weight", aliases: ["adapter_norm_before.weight"], shape: [h], fresh: ones(h), loaded: loaded?.normBefore?.gamma, decays: false),
                beta: tensor("adapter_down.0.bias", aliases: ["adapter_norm_before.bias"], shape: [h], fresh: zeros(h), loaded: loaded?.normBefore?.beta, decays: false),
                epsilon: BottleneckAdapter.adapterNormEpsilon)
            downIndex = 1
        }
        let downWeight = loaded == nil ? normal(b * h) : []
        let down = TrainLinear(
            weight: tensor("adapter_down.\(downIndex).weight", shape: [b, h], fresh: downWeight, loaded: loaded?.down.weight, decays: true),
            bias: tensor("adapter_down.\(downIndex).bias", shape: [b], fresh: zeros(b), loaded: loaded?.down.bias, decays: false),
            inFeatures: h, outFeatures: b)
        let upWeight = loaded == nil ? normal(h * b) : []
        let up = TrainLinear(
            weight: tensor("adapter_up.weight", shape: [h, b], fresh: upWeight, loaded: loaded?.up.weight, decays: true),
            bias: tensor("adapter_up.bias", shape: [h], fresh: zeros(h), loaded: loaded?.up.bias, decays: false),
            inFeatures: b, outFeatures: h)
        var normAfter: TrainNorm?
        if config.layerNormAfter {
            normAfter = TrainNorm(
                gamma: tensor("adapter_norm_after.weight", shape: [h], fresh: ones(h), loaded: loaded?.normAfter?.gamma, decays: false),
                beta: tensor("adapter_norm_after.bias", shape: [h], fresh: zeros(h), loaded: loaded?.normAfter?.beta, decays: false),
                epsilon: BottleneckAdapter.adapterNormEpsilon)
        }
        var scaling: Weight?
        switch config.scaling {
        case .fixed: break
        case .learned: scaling = tensor("scaling", shape: [1], fresh: ones(1), loaded: loaded?.learnedScaling, decays: false)
        case .channel: scaling = tensor("scaling", shape: [h], fresh: ones(h), loaded: loaded?.learnedScaling, decays: false)
        }
        return TrainBottleneckModule(down: down, up: up, normBefore: normBefore, normAfter: normAfter, scaling: scaling)
    }

    /// A whole bottleneck adapter, its sites in (layer, location) order.
    mutating func bottleneckAdapter(
        name: String, config: BottleneckConfig, loaded: BottleneckAdapter?, layerCount: Int, trainable: Bool,
        naming: TensorNaming, file: String?
    ) -> TrainBottleneckAdapter {
        var sites: [AdapterSite] = []
        if let loaded {
            sites = Array(loaded.modules.keys)
        } else {
            for layer in 0..<layerCount where !config.leaveOut.contains(layer) {
                if config.attentionAdapter { sites.append(AdapterSite(layer: layer, location: .attentionOutput)) }
                if config.outputAdapter { sites.append(AdapterSite(layer: layer, location: .output)) }
            }
        }
        sites.sort { ($0.layer, $0.location == .output ? 1 : 0) < ($1.layer, $1.location == .output ? 1 : 0) }
        var modules: [AdapterSite: TrainBottleneckModule] = [:]
        for site in sites {
            modules[site] = bottleneckModule(
                site, adapter: name, config: config, loaded: loaded?.modules[site],
                bottleneck: config.bottleneckSize(layer: site.layer, hiddenSize: hidden), trainable: trainable,
                naming: naming, file: file)
        }
        return TrainBottleneckAdapter(name: name, config: config, modules: modules)
    }

    // MARK: - LoRA

    mutating func loraModules(
        name: String, config: LoRAConfig, loaded: LoRAAdapter?, base: BertConfig, naming: TensorNaming, file: String
    ) -> [LoRASite: TrainLoRAModule] {
        var sites: [LoRASite] = []
        if let loaded {
            sites = Array(loaded.modules.keys)
        } else {
            let order: [(AdapterTensor.LoRATarget, ProjectionSite)] = [
                (.query, .query), (.key, .key), (.value, .value), (.attentionOutput, .attentionOutput),
                (.intermediate, .intermediate), (.output, .output),
            ]
            for layer in 0..<base.layerCount where !config.leaveOut.contains(layer) {
                for (target, site) in order where config.targets.contains(target) {
                    sites.append(LoRASite(layer: layer, projection: site))
                }
            }
        }
        let order = ProjectionSite.allCases
        sites.sort { ($0.layer, order.firstIndex(of: $0.projection)!) < ($1.layer, order.firstIndex(of: $1.projection)!) }
        var modules: [LoRASite: TrainLoRAModule] = [:]
        for site in sites {
            let (inFeatures, outFeatures) =
                switch site.projection {
                case .intermediate: (base.hiddenSize, base.intermediateSize)
                case .output: (base.intermediateSize, base.hiddenSize)
                default: (base.hiddenSize, base.hiddenSize)
                }
            let r = loaded?.modules[site]?.rank ?? config.rank
            let a = parameter(
                naming.lora(site, adapter: name, matrix: "A"), shape: [r, inFeatures],
                values: loaded?.modules[site]?.a.array ?? kaimingUniform(r * inFeatures, fanIn: inFeatures), decays: true,
                file: file)
            let b = parameter(
                naming.lora(site, adapter: name, matrix: "B"), shape: [outFeatures, r],
                values: loaded?.modules[site]?.b.array ?? zeros(outFeatures * r), decays: true, file: file)
            modules[site] = TrainLoRAModule(
                a: a, b: b, rank: r, inFeatures: inFeatures, outFeatures: outFeatures,
                scaling: loaded?.modules[site]?.scaling ?? config.scaling)
        }
        return modules
    }

    // MARK: - Fusion

    mutating func fusionLayers(
        fusionName: String, config: FusionConfig, members: [TrainBottleneckAdapter], loaded: Fusion?,
        naming: TensorNaming, file: String
    ) -> [AdapterSite: TrainFusionLayer] {
        let h = hidden
        var sites = loaded.map { Array($0.layers.keys) }
            ?? Array(Set(members.flatMap(\.modules.keys)).filter { site in members.allSatisfy { $0.modules[site] != nil } })
        sites.sort { ($0.layer, $0.location == .output ? 1 : 0) < ($1.layer, $1.location == .output ? 1 : 0) }
        var layers: [AdapterSite: TrainFusionLayer] = [:]
        for site in sites {
            let weights = loaded?.layers[site]
            func name(_ component: String) -> String { naming.fusion(site, fusion: fusionName, component) }
            func linear(_ projection: String, _ loadedLinear: LinearWeights?) -> TrainLinear {
                let weight = parameter(
                    name("\(projection).weight"), shape: [h, h], values: loadedLinear?.weight.array ?? normal(h * h),
                    decays: true, file: file)
                let bias = parameter(
                    name("\(projection).bias"), shape: [h], values: loadedLinear?.bias.array ?? zeros(h), decays: false,
                    file: file)
                return TrainLinear(weight: weight, bias: bias, inFeatures: h, outFeatures: h)
            }
            let query = config.query ? linear("query", weights?.query) : nil
            let key = config.key ? linear("key", weights?.key) : nil
            var value: Weight?
            if config.value {
                var initial = weights?.value?.array ?? normal(h * h)
                if weights == nil, config.valueInitialized {
                    initial = (0..<(h * h)).map { $0 / h == $0 % h ? 1 : 1e-6 }
                }
                value = parameter(name("value.weight"), shape: [h, h], values: initial, decays: true, file: file)
            }
            if !config.query, !config.key, !config.value, loaded == nil {
                // The library creates (and saves) a Linear(hidden, 1) that its forward never uses.
                export.add(frozen: FloatBuffer(normal(h)), name: name("dense.weight"), shape: [1, h], to: file)
                export.add(frozen: FloatBuffer(count: 1), name: name("dense.bias"), shape: [1], to: file)
            }
            layers[site] = TrainFusionLayer(query: query, key: key, value: value)
        }
        return layers
    }

    // MARK: - Head

    /// A classification head (`layers` Linear layers, tanh between, dropout before each), fresh or loaded.
    mutating func head(name: String, labels: [String], layers count: Int, loaded: ClassificationHead?, file: String) -> TrainHead {
        let h = hidden
        var layers: [TrainLinear] = []
        for index in 0..<count {
            let out = index == count - 1 ? labels.count : h
            let loadedLayer = loaded?.layers[index]
            let weight = parameter(
                TensorNaming.head(name, layer: index, "weight"), shape: [out, h],
                values: loadedLayer?.weight.array ?? normal(out * h, headDeviation), decays: true, file: file)
            let bias = parameter(
                TensorNaming.head(name, layer: index, "bias"), shape: [out], values: loadedLayer?.bias.array ?? zeros(out),
                decays: false, file: file)
            layers.append(TrainLinear(weight: weight, bias: bias, inFeatures: h, outFeatures: out))
        }
        return TrainHead(
            layers: layers, dropoutBefore: Array(repeating: true, count: count),
            activation: loaded?.config.activation ?? .tanh, labels: labels)
    }
}

private func zeros(_ count: Int) -> [Float] { [Float](repeating: 0, count: count) }
private func ones(_ count: Int) -> [Float] { [Float](repeating: 1, count: count) }
