import QuiverTensor

// The configuration files the `adapters` library (1.3.0) writes with `save_adapter` / `save_adapter_fusion` /
// `save_head`, for adapters, fusions and heads trained by Quiver: every field the library writes, keys sorted,
// `json.dump(…, indent=2, sort_keys=True)` formatting.

/// Python's `json.dumps(value, indent=2, sort_keys=True)`: ASCII output (`\uXXXX` escapes), `", "`/`": "`
/// separators at line ends, `[]` and `{}` for empty containers, floats as Python's `repr`.
public enum PythonJSON {
    public static func pretty(_ value: JSONValue) -> String {
        var output = ""
        write(value, indent: 0, into: &output)
        return output
    }

    private static func write(_ value: JSONValue, indent: Int, into output: inout String) {
        let padding = String(repeating: " ", count: indent + 2)
        switch value {
        case .array(let elements) where !elements.isEmpty:
            output += "[\n"
            for (index, element) in elements.enumerated() {
                output += padding
                write(element, indent: indent + 2, into: &output)
                output += index < elements.count - 1 ? ",\n" : "\n"
            }
            output += String(repeating: " ", count: indent) + "]"
        case .object(let members) where !members.isEmpty:
            output += "{\n"
            let sorted = members.sorted { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) }
            for (index, member) in sorted.enumerated() {
                output += padding
                writeString(member.key, into: &output)
                output += ": "
                write(member.value, indent: indent + 2, into: &output)
                output += index < sorted.count - 1 ? ",\n" : "\n"
            }
            output += String(repeating: " ", count: indent) + "}"
        case .array: output += "[]"
        case .object: output += "{}"
        case .string(let string): writeString(string, into: &output)
        default: JSONWriter.write(value, into: &output)
        }
    }

    /// Python's `ensure_ascii` escaping: everything outside space…tilde as `\uXXXX` (UTF-16), with the short forms.
    private static func writeString(_ string: String, into output: inout String) {
        output += "\""
        for unit in string.utf16 {
            switch unit {
            case 0x22: output += "\\\""
            case 0x5C: output += "\\\\"
            case 0x0A: output += "\\n"
            case 0x0D: output += "\\r"
            case 0x09: output += "\\t"
            case 0x08: output += "\\b"
            case 0x0C: output += "\\f"
            case 0x20...0x7E: output.unicodeScalars.append(UnicodeScalar(UInt8(unit)))
            default:
                let hex = String(unit, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            }
        }
        output += "\""
    }
}

/// The fields around every saved config: `{"config": …, "hidden_size", "model_class", "model_name", "model_type",
/// "name", "version"}`.
public struct LibraryConfigFile: Sendable {
    /// The base model's name, as the library records it (`model_name`).
    public var modelName: String
    public var hiddenSize: Int
    public var modelClass: String
    public var modelType: String
    public var version = "adapters.1.3.0"

    public init(modelName: String, base: BertConfig) {
        self.modelName = modelName
        hiddenSize = base.hiddenSize
        modelType = base.modelType
        modelClass = base.family.adapterModelClass
    }

    /// `adapter_config.json` (also for a head's `head_config.json`, with the head's config).
    public func bytes(name: String, config: JSONValue, extra: [(key: String, value: JSONValue)] = []) -> [UInt8] {
        let members: [(key: String, value: JSONValue)] =
            [
                ("config", config), ("hidden_size", .integer(Int64(hiddenSize))), ("model_class", .string(modelClass)),
                ("model_name", .string(modelName)), ("model_type", .string(modelType)), ("name", .string(name)),
                ("version", .string(version)),
            ] + extra
        return Array(PythonJSON.pretty(.object(members)).utf8)
    }

    /// `adapter_fusion_config.json`.
    public func fusionBytes(adapterNames: [String], config: FusionConfig) -> [UInt8] {
        bytes(
            name: adapterNames.joined(separator: ","), config: config.libraryJSON,
            extra: [("adapter_names", .array(adapterNames.map { .string($0) }))])
    }

    /// `head_config.json` of a classification head.
    public func headBytes(name: String, labels: [String], layers: Int, activation: String = "tanh") -> [UInt8] {
        let config: JSONValue = .object([
            ("activation_function", .string(activation)), ("bias", .bool(true)), ("dropout_prob", .null),
            ("head_type", .string("classification")),
            ("label2id", .object(labels.enumerated().map { ($1, .integer(Int64($0))) })), ("layers", .integer(Int64(layers))),
            ("num_labels", .integer(Int64(labels.count))), ("use_pooler", .bool(false)),
        ])
        return bytes(name: name, config: config)
    }
}

/// The Double that prints like the Float (0.1, not 0.10000000149011612).
private func shortest(_ value: Float) -> Double { Double("\(value)") ?? Double(value) }

/// A number as Python writes it: an integer stays one, a float keeps its `.0`.
private func number(_ value: Double, integral: Bool) -> JSONValue {
    integral && value.rounded() == value && abs(value) < 1e15 ? .integer(Int64(value)) : .number(value)
}

extension BottleneckConfig {
    /// The library's presets: `seq_bn` (`SeqBnConfig`) and `double_seq_bn` (`DoubleSeqBnConfig`), with their
    /// default reduction factor 16.
    public static func preset(_ name: String) -> BottleneckConfig? {
        let json: JSONValue
        switch name {
        case "seq_bn", "pfeiffer":
            json = .object([
                ("mh_adapter", .bool(false)), ("output_adapter", .bool(true)), ("non_linearity", .string("relu")),
                ("original_ln_before", .bool(true)), ("original_ln_after", .bool(true)),
                ("residual_before_ln", .bool(true)), ("reduction_factor", .integer(16)),
            ])
        case "double_seq_bn", "houlsby":
            json = .object([
                ("mh_adapter", .bool(true)), ("output_adapter", .bool(true)), ("non_linearity", .string("swish")),
                ("original_ln_before", .bool(false)), ("original_ln_after", .bool(true)),
                ("residual_before_ln", .bool(true)), ("reduction_factor", .integer(16)),
            ])
        default: return nil
        }
        return try? BottleneckConfig(json: json, source: name)
    }

    /// The inner `config` object of the library's `adapter_config.json`: every `BnConfig` field, those Quiver does
    /// not model at the library's defaults (reduction factor 16 unless set).
    public var libraryJSON: JSONValue {
        let nonLinearityName: String =
            switch nonLinearity {
            case .silu: "swish"
            default: nonLinearity.rawValue
            }
        let scalingValue: JSONValue =
            switch scaling {
            case .fixed(let factor): .number(Double(factor))
            case .learned: .string("learned")
            case .channel: .string("channel")
            }
        let residualValue: JSONValue =
            switch residual {
            case .beforeLayerNorm: .bool(true)
            case .afterLayerNorm: .bool(false)
            case .postAdd: .string("post_add")
            }
        return .object([
            ("adapter_residual_before_ln", .bool(adapterResidualBeforeLayerNorm)), ("cross_adapter", .bool(false)),
            ("dropout", .number(shortest(dropout))), ("factorized_phm_W", .bool(true)),
            ("factorized_phm_rule", .bool(false)), ("hypercomplex_nonlinearity", .string("glorot-uniform")),
            ("init_weights", .string("bert")), ("init_weights_seed", .null), ("inv_adapter", .null),
            ("inv_adapter_reduction_factor", .null), ("is_parallel", .bool(false)), ("learn_phm", .bool(true)),
            ("leave_out", .array(leaveOut.sorted().map { .integer(Int64($0)) })), ("ln_after", .bool(layerNormAfter)),
            ("ln_before", .bool(layerNormBefore)), ("mh_adapter", .bool(attentionAdapter)),
            ("non_linearity", .string(nonLinearityName)), ("original_ln_after", .bool(originalLayerNormAfter)),
            ("original_ln_before", .bool(originalLayerNormBefore)), ("output_adapter", .bool(outputAdapter)),
            ("phm_bias", .bool(true)), ("phm_c_init", .string("normal")), ("phm_dim", .integer(4)),
            ("phm_init_range", .number(0.0001)), ("phm_layer", .bool(false)), ("phm_rank", .integer(1)),
            ("reduction_factor", reductionFactor ?? .integer(16)), ("residual_before_ln", residualValue),
            ("scaling", scalingValue), ("shared_W_phm", .bool(false)), ("shared_phm_rule", .bool(true)),
            ("stochastic_depth", .number(0)), ("use_gating", .bool(false)),
        ])
    }

    /// The bottleneck width at `layer`: `max(1, hidden // reduction_factor)` as the library computes it.
    public func bottleneckSize(layer: Int, hiddenSize: Int) -> Int {
        var factor = 16.0
        switch reductionFactor {
        case .object?:
            if let value = reductionFactor?[String(layer)]?.doubleValue ?? reductionFactor?["default"]?.doubleValue {
                factor = value
            }
        case let value?: factor = value.doubleValue ?? 16
        case nil: break
        }
        return max(1, Int((Double(hiddenSize) / factor).rounded(.down)))
    }
}

extension LoRAConfig {
    /// A LoRA config in the `adapters` layout (`LoRAConfig(r:, alpha:, attn_matrices:)`).
    public static func adapters(rank: Int, alpha: Double, attentionMatrices: [String] = ["q", "v"]) throws -> LoRAConfig {
        try LoRAConfig(
            adaptersJSON: .object([
                ("r", .integer(Int64(rank))), ("alpha", number(alpha, integral: true)),
                ("attn_matrices", .array(attentionMatrices.map { .string($0) })),
            ]), source: "LoRA config")
    }

    /// The inner `config` object of the library's `adapter_config.json` for LoRA.
    public var libraryJSON: JSONValue {
        let matrices: [(AdapterTensor.LoRATarget, String)] = [(.query, "q"), (.key, "k"), (.value, "v")]
        let attention = matrices.filter { targets.contains($0.0) }.map { JSONValue.string($0.1) }
        return .object([
            ("alpha", number(alpha, integral: true)), ("architecture", .string("lora")),
            ("attn_matrices", .array(attention.isEmpty ? [.string("q"), .string("v")] : attention)),
            ("composition_mode", .string("add")), ("dropout", .number(shortest(dropout))), ("dtype", .null),
            ("init_weights", .string("lora")), ("init_weights_seed", .null),
            ("intermediate_lora", .bool(targets.contains(.intermediate))),
            ("leave_out", .array(leaveOut.sorted().map { .integer(Int64($0)) })),
            ("output_lora", .bool(targets.contains(.output))), ("r", .integer(Int64(rank))),
            ("selfattn_lora", .bool(!attention.isEmpty)), ("use_dora", .bool(false)), ("use_gating", .bool(false)),
            ("vera_b", .null), ("vera_d", .null),
        ])
    }
}

extension FusionConfig {
    /// The inner `config` object of `adapter_fusion_config.json`.
    public var libraryJSON: JSONValue {
        .object([
            ("dropout_prob", dropoutProbability.map { JSONValue.number(shortest($0)) } ?? JSONValue.null), ("key", .bool(key)),
            ("query", .bool(query)), ("query_before_ln", .bool(queryBeforeLayerNorm)),
            ("regularization", .bool(regularization)), ("residual_before", .bool(residualBefore)),
            ("temperature", .bool(temperature != 1)), ("value", .bool(value)),
            ("value_before_softmax", .bool(valueBeforeSoftmax)), ("value_initialized", .bool(valueInitialized)),
        ])
    }
}
