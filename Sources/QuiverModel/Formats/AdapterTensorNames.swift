import QuiverTensor

/// The one table of tensor names used by the `adapters` library and PEFT for adapter, fusion and
/// head weights, parsed into what each tensor is.
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
        if let match = name.wholeMatch(of: /heads\.([^.]+)\.(\d+)\.(weight|bias)/), let index = Int(match.2) {
            return .head(head: String(match.1), index: index, parameter: String(match.3))
        }
        // Strip PEFT's wrapper and an optional model prefix such as `bert.`.
        var rest = Substring(name)
        if rest.hasPrefix("base_model.model.") { rest = rest.dropFirst("base_model.model.".count) }
        guard let layerMatch = rest.firstMatch(of: /(?:^|\.)encoder\.layer\.(\d+)\./), let layer = Int(layerMatch.1) else {
            return nil
        }
        let tail = rest[layerMatch.range.upperBound...]
        if let match = tail.wholeMatch(of: /(attention\.output|output)\.adapters\.([^.]+)\.(.+)/) {
            return .bottleneck(layer: layer, location: BottleneckLocation(rawValue: String(match.1))!, adapter: String(match.2), component: String(match.3))
        }
        if let match = tail.wholeMatch(of: /(attention\.output|output)\.adapter_fusion_layer\.([^.]+)\.(query|key|value|dense)\.(weight|bias)/) {
            return .fusion(layer: layer, location: BottleneckLocation(rawValue: String(match.1))!, fusion: String(match.2),
                           projection: FusionProjection(rawValue: String(match.3))!, parameter: String(match.4))
        }
        if let match = tail.wholeMatch(of: /(attention\.self\.query|attention\.self\.key|attention\.self\.value|attention\.output\.dense|intermediate\.dense|output\.dense)\.loras\.([^.]+)\.lora_(A|B)/) {
            return .lora(layer: layer, target: LoRATarget(rawValue: String(match.1))!, adapter: String(match.2), matrix: LoRAMatrix(rawValue: String(match.3))!)
        }
        if let match = tail.wholeMatch(of: /(attention\.self\.query|attention\.self\.key|attention\.self\.value|attention\.output\.dense|intermediate\.dense|output\.dense)\.lora_(A|B)(?:\.[^.]+)?\.weight/) {
            return .lora(layer: layer, target: LoRATarget(rawValue: String(match.1))!, adapter: nil, matrix: LoRAMatrix(rawValue: String(match.2))!)
        }
        return nil
    }

    // MARK: - Shapes

    /// Checks the tensor's shape against the base's hidden size `h`; returns a reason when it does not fit. LoRA
    /// matrices are checked against the module they adapt (`TunerTensor`).
    public func shapeProblem(_ shape: [Int], hidden h: Int) -> String? {
        guard h > 0 else { return nil }
        switch self {
        case .bottleneck(_, _, _, let component):
            // Down projections read the hidden state, up projections write it; norms and channel
            // scaling act on it. The bottleneck width is free.
            if component.hasPrefix("adapter_down"), component.hasSuffix(".weight"), shape.count == 2 {
                return shape[1] == h ? nil : "input size \(shape[1]) ≠ hidden size \(h)"
            }
            if component == "adapter_up.weight" {
                return shape.count == 2 && shape[0] == h ? nil : "shape \(shape) does not produce hidden size \(h)"
            }
            if component == "adapter_up.bias" || component.hasPrefix("adapter_norm") {
                return shape == [h] ? nil : "shape \(shape) ≠ [\(h)]"
            }
            return nil
        case .lora:
            return nil
        case .fusion(_, _, _, let projection, let parameter):
            let expected = projection == .dense ? (parameter == "weight" ? [1, h] : [1]) : (parameter == "weight" ? [h, h] : [h])
            return shape == expected ? nil : "shape \(shape) does not fit hidden size \(h)"
        case .head(_, let index, let parameter):
            // The first linear layer of a head reads the hidden state (CLS token).
            if index == 1, parameter == "weight" {
                return shape.count == 2 && shape[1] == h ? nil : "first head layer reads \(shape.count == 2 ? shape[1] : 0) features, hidden size is \(h)"
            }
            return nil
        }
    }
}
