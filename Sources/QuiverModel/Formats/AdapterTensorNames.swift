import QuiverTensor

/// The tensor names the engine reads, from the `adapters` library and PEFT, for adapter, fusion and head weights,
/// parsed into what each tensor is. Each kind reads its names in `Kinds/<Kind>/<Kind>TensorNames.swift` and writes them
/// (`TensorNaming`) in its training file; this is the dispatch.
///
/// Examples:
/// - `bert.encoder.layer.3.output.adapters.sst2.adapter_down.0.weight` (bottleneck, output location)
/// - `bert.encoder.layer.3.attention.output.adapters.sst2.adapter_up.bias` (bottleneck, mh location)
/// - `bert.encoder.layer.3.attention.self.query.loras.sst2.lora_A` (LoRA, `adapters` layout)
/// - `base_model.model.encoder.layer.3.attention.self.query.lora_B.weight` (LoRA, PEFT layout)
/// - `bert.encoder.layer.3.output.adapter_fusion_layer.a,b.query.weight` (AdapterFusion)
/// - `heads.sst2.4.weight` (prediction head)
public enum AdapterTensor: Equatable, Sendable {
    case bottleneck(layer: Int, location: BottleneckLocation, adapter: String, component: String)
    case lora(layer: Int, target: LoRATarget, adapter: String?, matrix: LoRAMatrix)
    case fusion(layer: Int, location: BottleneckLocation, fusion: String, projection: FusionProjection, parameter: String)
    case head(head: String, index: Int, parameter: String)

    public enum BottleneckLocation: String, Sendable {
        /// After the attention block's output projection (`mh_adapter`).
        case attentionOutput = "attention.output"
        /// After the feed-forward block's output projection (`output_adapter`).
        case output = "output"
    }

    public enum LoRATarget: String, Sendable, CaseIterable {
        case query = "attention.self.query"
        case key = "attention.self.key"
        case value = "attention.self.value"
        case attentionOutput = "attention.output.dense"
        case intermediate = "intermediate.dense"
        case output = "output.dense"
    }

    public enum LoRAMatrix: String, Sendable { case a = "A", b = "B" }

    public enum FusionProjection: String, Sendable {
        case query, key, value
        /// Saved by the library when query, key and value are all off; never used in the forward pass.
        case dense
    }

    /// The encoder layer the tensor belongs to, if any.
    public var layer: Int? {
        switch self {
        case .bottleneck(let layer, _, _, _), .lora(let layer, _, _, _), .fusion(let layer, _, _, _, _): layer
        case .head: nil
        }
    }

    // MARK: - Parsing

    /// Parses a tensor name of either library, or returns nil when it is none of the known forms.
    public static func parse(_ name: String) -> AdapterTensor? {
        if let head = parseHead(name) { return head }
        // Strip PEFT's wrapper and an optional model prefix such as `bert.`.
        var rest = Substring(name)
        if rest.hasPrefix("base_model.model.") { rest = rest.dropFirst("base_model.model.".count) }
        guard let (layer, spelling, tail) = EncoderFamily.layer(of: rest) else { return nil }
        return parseBottleneck(layer: layer, tail, spelling) ?? parseFusion(layer: layer, tail, spelling) ?? parseLoRA(layer: layer, tail, spelling)
    }

    // MARK: - Shapes

    /// Checks the tensor's shape against the base's hidden size `h`; returns a reason when it does not fit. LoRA
    /// matrices are checked against the module they adapt (`TunerTensor`).
    public func shapeProblem(_ shape: [Int], hidden h: Int) -> String? {
        guard h > 0 else { return nil }
        switch self {
        case .bottleneck(_, _, _, let component): return Self.bottleneckShapeProblem(component: component, shape, hidden: h)
        case .lora: return nil
        case .fusion(_, _, _, let projection, let parameter): return Self.fusionShapeProblem(projection, parameter, shape, hidden: h)
        case .head(_, let index, let parameter): return Self.headShapeProblem(index: index, parameter, shape, hidden: h)
        }
    }
}
