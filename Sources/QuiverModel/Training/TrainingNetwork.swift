import QuiverTensor

/// The stages of an encoder layer in forward order: where a trainable module can sit.
enum LayerStage: Int, Comparable, Sendable {
    /// LoRA on query, key or value.
    case queryKeyValue
    /// LoRA on attention.output.dense.
    case attentionProjection
    /// The attention sublayer (bottleneck `mh_adapter`, fusion).
    case attentionSublayer
    /// LoRA on intermediate.dense.
    case intermediate
    /// LoRA on output.dense.
    case outputProjection
    /// The output sublayer (bottleneck `output_adapter`, fusion).
    case outputSublayer

    static func < (lhs: LayerStage, rhs: LayerStage) -> Bool { lhs.rawValue < rhs.rawValue }

    init(_ projection: ProjectionSite) {
        switch projection {
        case .query, .key, .value: self = .queryKeyValue
        case .attentionOutput: self = .attentionProjection
        case .intermediate: self = .intermediate
        case .output: self = .outputProjection
        }
    }

    init(_ location: SublayerLocation) {
        self = location == .attentionOutput ? .attentionSublayer : .outputSublayer
    }
}

/// A place in the encoder: (layer, stage), ordered as the forward pass visits them.
struct TrainingPoint: Comparable, Sendable {
    let layer: Int
    let stage: LayerStage

    static func < (lhs: TrainingPoint, rhs: TrainingPoint) -> Bool {
        (lhs.layer, lhs.stage.rawValue) < (rhs.layer, rhs.stage.rawValue)
    }
}

/// Everything a training pass reads: the frozen base and the modules plugged into it.
struct TrainingNetwork: @unchecked Sendable {
    let encoder: BertEncoder
    let sublayers: [AdapterSite: SublayerModule]
    let lora: [LoRASite: TrainLoRAModule]
    let head: TrainHead
    /// The lowest point with a trainable parameter; nil when only the head trains. Backward stops there, and the
    /// layers below it run forward only.
    let lowestTrainable: TrainingPoint?
    /// The base layers' LayerNorms, frozen: (attention, output) per layer.
    let norms: [(attention: TrainNorm, output: TrainNorm)]

    init(encoder: BertEncoder, sublayers: [AdapterSite: SublayerModule], lora: [LoRASite: TrainLoRAModule], head: TrainHead) {
        self.encoder = encoder
        self.sublayers = sublayers
        self.lora = lora
        self.head = head
        var points: [TrainingPoint] = []
        for (site, module) in sublayers where module.isTrainable {
            points.append(TrainingPoint(layer: site.layer, stage: LayerStage(site.location)))
        }
        for (site, module) in lora where module.a.isTrainable || module.b.isTrainable {
            points.append(TrainingPoint(layer: site.layer, stage: LayerStage(site.projection)))
        }
        lowestTrainable = points.min()
        norms = encoder.weights.layers.map {
            (attention: TrainNorm(frozen: $0.attentionNorm), output: TrainNorm(frozen: $0.outputNorm))
        }
    }

    /// The first layer whose activations backward needs (the layer count when none does).
    var firstTapedLayer: Int { lowestTrainable?.layer ?? encoder.layerCount }

    /// Whether gradients must flow below `point`: something trainable sits lower.
    func needsGradient(below point: TrainingPoint) -> Bool {
        guard let lowest = lowestTrainable else { return false }
        return lowest < point
    }

    func sublayer(_ layer: Int, _ location: SublayerLocation) -> SublayerModule {
        sublayers[AdapterSite(layer: layer, location: location)] ?? .standard
    }
}
