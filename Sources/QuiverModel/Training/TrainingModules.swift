import QuiverTensor

// The modules of a model in training: the same math as the inference types (`BottleneckModule`, `LoRAModule`,
// `FusionLayerWeights`, `ClassificationHead`), with each tensor either trainable or frozen.

/// One bottleneck module (one site of a bottleneck adapter).
struct TrainBottleneckModule: @unchecked Sendable {
    let down: TrainLinear
    let up: TrainLinear
    let normBefore: TrainNorm?
    let normAfter: TrainNorm?
    /// The learned scalar ([1]) or per-channel ([hidden]) scaling; nil for a fixed factor.
    let scaling: Weight?

    var bottleneckSize: Int { down.outFeatures }
    var isTrainable: Bool {
        down.isTrainable || up.isTrainable || normBefore?.isTrainable == true || normAfter?.isTrainable == true
            || scaling?.isTrainable == true
    }

    /// The inference form, sharing the buffers.
    var inferenceModule: BottleneckModule {
        BottleneckModule(
            down: down.linearWeights, up: up.linearWeights, normBefore: normBefore?.layerNormWeights,
            normAfter: normAfter?.layerNormWeights, learnedScaling: scaling?.value)
    }
}

/// A bottleneck adapter: its config and its modules by site.
struct TrainBottleneckAdapter: @unchecked Sendable {
    /// The adapter's name in the `adapters` library (in its tensor names).
    let name: String
    let config: BottleneckConfig
    let modules: [AdapterSite: TrainBottleneckModule]

    var inferenceAdapter: BottleneckAdapter {
        BottleneckAdapter(config: config, modules: modules.mapValues(\.inferenceModule))
    }
}

/// One LoRA module: `y += scaling · (dropout(x) · Aᵀ) · Bᵀ`.
struct TrainLoRAModule: @unchecked Sendable {
    /// a is (rank, inFeatures).
    let a: Weight
    /// b is (outFeatures, rank).
    let b: Weight
    let rank: Int
    let inFeatures: Int
    let outFeatures: Int
    let scaling: Float
}

/// One AdapterFusion layer.
struct TrainFusionLayer: @unchecked Sendable {
    let query: TrainLinear?
    let key: TrainLinear?
    /// value is (hidden, hidden), no bias.
    let value: Weight?
}

/// AdapterFusion over bottleneck adapters.
struct TrainFusion: @unchecked Sendable {
    /// "a,b": the members' names joined with commas, as the library names a fusion.
    let name: String
    let config: FusionConfig
    let members: [TrainBottleneckAdapter]
    let layers: [AdapterSite: TrainFusionLayer]
}

/// A classification head: the [CLS] vector through Linear layers with the activation between them, dropout before
/// the Linear layers that have it.
struct TrainHead: @unchecked Sendable {
    let layers: [TrainLinear]
    /// For each layer, whether dropout applies to its input.
    let dropoutBefore: [Bool]
    /// Applied after every layer but the last.
    let activation: Nonlinearity
    let labels: [String]
}

/// What replaces `LayerNorm(projected + residual)` at one site.
enum SublayerModule: @unchecked Sendable {
    case standard
    case bottleneck(TrainBottleneckAdapter, TrainBottleneckModule)
    case fusion(TrainFusion, TrainFusionLayer)

    var isTrainable: Bool {
        switch self {
        case .standard: false
        case .bottleneck(_, let module): module.isTrainable
        case .fusion(let fusion, let layer):
            layer.query?.isTrainable == true || layer.key?.isTrainable == true || layer.value?.isTrainable == true
                || fusion.members.contains { $0.modules.values.contains(where: \.isTrainable) }
        }
    }
}
