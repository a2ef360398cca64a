import QuiverTensor

/// LoRA in the `adapters` layout (`LoRAConfig`) or PEFT's (`LoraConfig`, `peft_type` LORA).
public struct LoRAConfig: Sendable, Equatable {
    public var rank: Int
    /// The factor applied to B·A·x: alpha / r (alpha / √r with PEFT's `use_rslora`).
    public var scaling: Float
    /// Which projections carry LoRA; the tensors present decide the rest.
    public var targets: Set<AdapterTensor.LoRATarget>
    public var leaveOut: Set<Int>
    /// `alpha` (`adapters`) or `lora_alpha` (PEFT).
    public var alpha: Double
    /// The dropout on the LoRA input in training: `dropout` (`adapters`) or `lora_dropout` (PEFT); default 0.
    public var dropout: Float

    /// Parses the inner `config` of an `adapters` LoRA adapter_config.json.
    public init(adaptersJSON config: JSONValue, source: String) throws {
        if let mode = config["composition_mode"]?.stringValue, mode != "add" {
            throw QuiverError(.unsupported, "\(source): LoRA composition_mode \"\(mode)\" (IA³) is not supported")
        }
        if config["use_gating"]?.boolValue == true { throw QuiverError(.unsupported, "\(source): gated LoRA (use_gating) is not supported") }
        if config["use_dora"]?.boolValue == true { throw QuiverError(.unsupported, "\(source): DoRA (use_dora) is not supported") }
        if let vera = config["vera_d"], !vera.isNull { throw QuiverError(.unsupported, "\(source): VeRA is not supported") }
        guard let rank = config["r"]?.intValue, rank > 0 else {
            throw QuiverError(.invalidInput, "\(source): LoRA needs a positive integer \"r\"")
        }
        let alpha = config["alpha"]?.doubleValue ?? Double(rank)
        self.rank = rank
        self.alpha = alpha
        scaling = Float(alpha / Double(rank))
        dropout = try parseProbability(config, "dropout", source: source) ?? 0
        var targets = Set<AdapterTensor.LoRATarget>()
        if config["selfattn_lora"]?.boolValue ?? true {
            for matrix in config["attn_matrices"]?.arrayValue ?? [.string("q"), .string("v")] {
                switch matrix.stringValue {
                case "q": targets.insert(.query)
                case "k": targets.insert(.key)
                case "v": targets.insert(.value)
                default: throw QuiverError(.invalidInput, "\(source): attn_matrices must hold \"q\", \"k\" or \"v\"")
                }
            }
        }
        if config["intermediate_lora"]?.boolValue == true { targets.insert(.intermediate) }
        if config["output_lora"]?.boolValue == true { targets.insert(.output) }
        self.targets = targets
        leaveOut = try parseLeaveOut(config, source: source)
    }

    /// Parses a PEFT adapter_config.json.
    public init(peftJSON config: JSONValue, source: String) throws {
        guard let rank = config["r"]?.intValue, rank > 0 else {
            throw QuiverError(.invalidInput, "\(source): PEFT LoRA config needs a positive integer \"r\"")
        }
        if config["use_dora"]?.boolValue == true { throw QuiverError(.unsupported, "\(source): DoRA (use_dora) is not supported") }
        if config["fan_in_fan_out"]?.boolValue == true { throw QuiverError(.unsupported, "\(source): fan_in_fan_out LoRA (GPT-2 style) is not supported") }
        if let bias = config["bias"]?.stringValue, bias != "none" {
            throw QuiverError(.unsupported, "\(source): PEFT LoRA bias \"\(bias)\" is not supported (only \"none\")")
        }
        for key in ["rank_pattern", "alpha_pattern"] {
            if let pattern = config[key]?.objectValue, !pattern.isEmpty {
                throw QuiverError(.unsupported, "\(source): per-module \(key) is not supported")
            }
        }
        if let layers = config["layers_to_transform"], !layers.isNull {
            throw QuiverError(.unsupported, "\(source): layers_to_transform is not supported")
        }
        let alpha = config["lora_alpha"]?.doubleValue ?? 8
        self.rank = rank
        self.alpha = alpha
        dropout = try parseProbability(config, "lora_dropout", source: source) ?? 0
        scaling = config["use_rslora"]?.boolValue == true ? Float(alpha / Double(rank).squareRoot()) : Float(alpha / Double(rank))
        targets = Set(AdapterTensor.LoRATarget.allCases)  // PEFT's target_modules are resolved by the tensors present
        leaveOut = []
    }
}
