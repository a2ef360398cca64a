/// A tensor that tunes one module of the base (LoRA, IA³, LoHa, LoKr, VeRA, OFT…), read from its name: the module
/// it belongs to and what it is to that module (`lora_A`, `ia3_l`, `hada_w1_a`…), and checked against the shape of
/// the module's weight in the base.
///
/// Names: `base_model.model.<module>.<marker>[.<adapter>][.weight]` (PEFT) or `<module>.loras.<adapter>.<marker>`
/// (the `adapters` library's LoRA and IA³). A tensor before any module (`base_model.vera_A`, VeRA's shared
/// projections) has an empty module.
public struct TunerTensor: Sendable, Equatable {
    public var module: String
    public var marker: String

    /// The name prefixes of each kind's tensors.
    static func markerPrefixes(of kind: AdapterKind) -> [String] {
        switch kind {
        case .lora, .adalora: ["lora_"]
        case .ia3: ["ia3_", "lora_"]
        case .loha: ["hada_"]
        case .lokr: ["lokr_"]
        case .vera: ["vera_"]
        case .oft: ["oft_"]
        case .boft: ["boft_"]
        case .fourierft: ["fourierft_"]
        case .hra: ["hra_"]
        case .bone: ["bone_"]
        case .miss: ["miss_"]
        case .vblora: ["vblora_"]
        case .lnTuning: ["ln_tuning_"]
        case .adaptionPrompt: ["adaption_"]
        default: []
        }
    }

    /// Parses a tensor name of a module-tuning kind; nil when no component carries one of the kind's markers.
    public static func parse(_ name: String, kind: AdapterKind) -> TunerTensor? {
        let prefixes = markerPrefixes(of: kind)
        guard !prefixes.isEmpty else { return nil }
        let components = PEFTConfig.components(of: name)
        guard let index = components.firstIndex(where: { component in prefixes.contains { component.hasPrefix($0) } }) else {
            return nil
        }
        var module = components[..<index]
        // `…loras.<adapter>` first: an `adapters` adapter may itself be named "ia3" or "loras".
        if module.count >= 2, module[module.count - 2] == "loras" {
            module = module.dropLast(2)
        } else if module.last == "loras" || module.last == "ia3" {
            module = module.dropLast()
        }
        return TunerTensor(module: module.joined(separator: "."), marker: String(components[index]))
    }

    /// Why `shape` does not fit a module whose weight has shape `weight`, or nil when it does (or the rule for this
    /// marker checks nothing more than the module's presence).
    ///
    /// - Parameters:
    ///   - transposed: the module keeps its weight as [in, out] (GPT-2's Conv1D, PEFT's `fan_in_fan_out`).
    ///   - feedforward: for IA³, whether the module is a feed-forward one (scaled at its input), when known.
    public func shapeProblem(_ shape: [Int], weight: [Int], transposed: Bool, feedforward: Bool?) -> String? {
        guard weight.count == 2 else { return nil }  // convolutions, norms: presence is all that is checked
        let (output, input) = transposed ? (weight[1], weight[0]) : (weight[0], weight[1])
        let elements = shape.reduce(1, *)
        func expect(_ condition: Bool, _ what: String) -> String? { condition ? nil : what }
        switch marker {
        case "lora_A":
            return expect(shape.count == 2 && shape[1] == input, "lora_A \(shape) must read the \(input) input features of \(module) (weight \(weight))")
        case "lora_B":
            return expect(shape.count == 2 && shape[0] == output, "lora_B \(shape) must write the \(output) output features of \(module) (weight \(weight))")
        case "lora_embedding_A":
            return expect(shape.count == 2 && shape[1] == weight[0], "lora_embedding_A \(shape) must cover the \(weight[0]) embeddings of \(module)")
        case "lora_embedding_B":
            return expect(shape.count == 2 && shape[0] == weight[1], "lora_embedding_B \(shape) must write the \(weight[1])-wide embeddings of \(module)")
        case "lora_magnitude_vector":
            return expect(elements == output, "DoRA magnitude \(shape) must have the \(output) outputs of \(module)")
        case "ia3_l":
            let fits: Bool = switch feedforward {
            case true?: shape == [1, input]
            case false?: shape == [output, 1]
            case nil: shape == [1, input] || shape == [output, 1]
            }
            return expect(fits, "ia3_l \(shape) must be [\(output), 1] or, for a feed-forward module, [1, \(input)] for \(module) (weight \(weight))")
        case "hada_w1_a", "hada_w2_a":
            return expect(shape.count == 2 && shape[0] == output, "\(marker) \(shape) must have the \(output) outputs of \(module)")
        case "hada_w1_b", "hada_w2_b":
            return expect(shape.count == 2 && shape[1] == input, "\(marker) \(shape) must read the \(input) inputs of \(module)")
        case "vera_lambda_b":
            return expect(elements == output, "vera_lambda_b \(shape) must have the \(output) outputs of \(module)")
        case "hra_u":
            return expect(shape.count == 2 && shape[0] == input, "hra_u \(shape) must have the \(input) inputs of \(module)")
        default:
            return nil
        }
    }
}
