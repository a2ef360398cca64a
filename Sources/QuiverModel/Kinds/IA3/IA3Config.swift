import QuiverTensor

/// IA³: a learned vector that multiplies a projection's output — or, for PEFT's feed-forward modules, its input.
///
/// Two layouts, one computation per projection (docs/fixtures-kinds.md, "runnable" sections):
/// - the `adapters` library's `IA3Config` is a LoRA config with `composition_mode: "scale"` and `r` 1: `lora_B`
///   [out, 1] scales the outputs of the projections its flags select (`attn_matrices` under `selfattn_lora`,
///   `intermediate_lora`, `output_lora`; not in `leave_out`), by `lora_B · alpha`, bias included;
/// - PEFT's `IA3Config` (`peft_type` IA3): `ia3_l` [out, 1] scales a target's output, bias included; [1, in] on a
///   module matching `feedforward_modules` scales its input (the bias is not scaled).
public struct IA3Config: Sendable, Equatable {
    public enum Layout: Sendable, Equatable {
        case adapters
        case peft
    }

    public var layout: Layout
    /// The factor folded into every vector: `alpha` (`adapters`; the library multiplies `lora_B` by it), 1 for PEFT.
    public var scaling: Float
    /// The projections the `adapters` flags select; every projection for PEFT (its tensors name their modules).
    public var targets: Set<AdapterTensor.LoRATarget>
    public var leaveOut: Set<Int>
    /// PEFT's `feedforward_modules` when a list (suffix rule: a module whose name ends with an entry is feed-forward);
    /// nil for a regex string, or for the `adapters` library (which only scales outputs).
    public var feedforwardModules: [String]?

    /// Parses the inner `config` of an `adapters` adapter_config.json whose `composition_mode` is `"scale"`.
    ///
    /// Bad input (the library itself refuses it: `r` above 1, dropout, DoRA) is an error; `use_gating` (UniPELT's gate
    /// on the scaling) is valid but not run here, so it is `.unsupported`, which a folder records as its engine note.
    public init(adaptersJSON config: JSONValue, source: String) throws {
        guard config["composition_mode"]?.stringValue == "scale" else {
            throw QuiverError(.invalidInput, "\(source): IA³ needs composition_mode \"scale\"")
        }
        if let rank = config["r"], !rank.isNull, rank.intValue != 1 {
            throw QuiverError(
                .invalidInput, "\(source): IA³ (composition_mode \"scale\") needs \"r\" 1, as the adapters library does"
            )
        }
        if let dropout = try parseProbability(config, "dropout", source: source), dropout > 0 {
            throw QuiverError(
                .invalidInput,
                "\(source): IA³ has no dropout (\"dropout\" must be 0; the adapters library refuses it too)")
        }
        if config["use_dora"]?.boolValue == true {
            throw QuiverError(.invalidInput, "\(source): IA³ (composition_mode \"scale\") cannot use DoRA (use_dora)")
        }
        if config["use_gating"]?.boolValue == true {
            throw QuiverError(.unsupported, "\(source): gated IA³ (use_gating) is not run by this build")
        }
        layout = .adapters
        guard let alpha = (config["alpha"].flatMap { $0.isNull ? nil : $0 } ?? .integer(1)).doubleValue, alpha.isFinite
        else {
            throw QuiverError(.invalidInput, "\(source): \"alpha\" must be a number")
        }
        scaling = Float(alpha)
        var targets = Set<AdapterTensor.LoRATarget>()
        if config["selfattn_lora"]?.boolValue ?? true {
            for matrix in config["attn_matrices"]?.arrayValue ?? [.string("k"), .string("v")] {
                switch matrix.stringValue {
                case "q": targets.insert(.query)
                case "k": targets.insert(.key)
                case "v": targets.insert(.value)
                default: throw QuiverError(.invalidInput, "\(source): attn_matrices must hold \"q\", \"k\" or \"v\"")
                }
            }
        }
        if config["intermediate_lora"]?.boolValue ?? true { targets.insert(.intermediate) }
        if config["output_lora"]?.boolValue == true { targets.insert(.output) }
        self.targets = targets
        leaveOut = try parseLeaveOut(config, source: source)
        feedforwardModules = nil
    }

    /// Parses a PEFT adapter_config.json with `peft_type` IA3. Which modules carry a vector is read from the tensors.
    public init(peftJSON config: JSONValue, source: String) throws {
        layout = .peft
        scaling = 1
        targets = Set(AdapterTensor.LoRATarget.allCases)
        leaveOut = []
        switch config["feedforward_modules"] {
        case nil, .null?, .string?:
            feedforwardModules = nil  // a regex (or nothing saved): each vector's shape tells which form it is
        case let field?:
            guard let names = field.arrayValue?.compactMap(\.stringValue), names.count == field.arrayValue?.count else {
                throw QuiverError(
                    .invalidInput, "\(source): \"feedforward_modules\" must be a list of module names or a regex")
            }
            feedforwardModules = names
        }
    }

    /// Whether PEFT treats `module` (its full name) as feed-forward, when the config's list decides it.
    func isFeedforward(module: String) -> Bool? {
        feedforwardModules.map { names in names.contains { module.hasSuffix($0) } }
    }
}
