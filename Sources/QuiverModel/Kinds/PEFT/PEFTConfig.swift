import QuiverTensor

/// What every PEFT `adapter_config.json` says, whatever its `peft_type`: the method, the task, the base it was made
/// for, and which modules are saved whole (`modules_to_save`: a classifier, a score layer…) rather than tuned.
public struct PEFTConfig: Sendable {
    /// `peft_type` as written (`LORA`, `IA3`, `PREFIX_TUNING`…).
    public var peftType: String
    public var kind: AdapterKind
    /// `task_type` (`SEQ_CLS`, `CAUSAL_LM`…), when given.
    public var taskType: String?
    /// `base_model_name_or_path`, when given.
    public var baseModelName: String?
    /// The modules saved whole, each as its path components (`classifier`, `classifier.dense`…).
    public var modulesToSave: [[String]]
    /// `feedforward_modules` of IA3 when a list (a regex string is kept in `json`).
    public var feedforwardModules: [String]?
    public var json: JSONValue

    static let kinds: [String: AdapterKind] = [
        "LORA": .lora, "LOHA": .loha, "LOKR": .lokr, "ADALORA": .adalora, "IA3": .ia3, "VERA": .vera, "OFT": .oft,
        "BOFT": .boft, "FOURIERFT": .fourierft, "HRA": .hra, "BONE": .bone, "MISS": .miss, "LN_TUNING": .lnTuning, "VBLORA": .vblora,
        "PREFIX_TUNING": .prefixTuning, "PROMPT_TUNING": .promptTuning, "P_TUNING": .pTuning,
        "MULTITASK_PROMPT_TUNING": .multitaskPromptTuning, "ADAPTION_PROMPT": .adaptionPrompt,
    ]

    /// The modules PEFT saves whole for a task type when `modules_to_save` does not name them (its task models add
    /// them).
    static let taskHeads: [String: [String]] = [
        "SEQ_CLS": ["classifier", "score"], "TOKEN_CLS": ["classifier", "score"], "QUESTION_ANS": ["qa_outputs"],
    ]

    public init(json: JSONValue, source: String) throws {
        guard let type = json["peft_type"]?.stringValue, !type.isEmpty else {
            throw QuiverError(.invalidInput, "\(source): \"peft_type\" must be a string")
        }
        peftType = type
        kind = Self.kinds[type] ?? .other(type.lowercased())
        taskType = json["task_type"]?.stringValue
        baseModelName = json["base_model_name_or_path"]?.stringValue
        var modules: [String] = []
        if let field = json["modules_to_save"], !field.isNull {
            guard let names = field.arrayValue?.compactMap(\.stringValue), names.count == field.arrayValue?.count else {
                throw QuiverError(.invalidInput, "\(source): \"modules_to_save\" must be a list of module names")
            }
            modules = names
        }
        modules += Self.taskHeads[taskType ?? ""] ?? []
        modulesToSave = modules.map { $0.split(separator: ".").map(String.init) }
        feedforwardModules = json["feedforward_modules"]?.arrayValue?.compactMap(\.stringValue)
        self.json = json
    }

    /// The module path of a saved tensor, without PEFT's `base_model.model.` wrapper and the parameter name.
    static func components(of tensor: String) -> [Substring] {
        var name = Substring(tensor)
        for wrapper in ["base_model.model.", "base_model."] where name.hasPrefix(wrapper) {
            name = name.dropFirst(wrapper.count)
            break
        }
        return name.split(separator: ".")
    }

    /// Whether a tensor belongs to a module saved whole (a head): some run of its path is a `modules_to_save` name.
    public func isHead(_ tensor: String) -> Bool {
        let path = Self.components(of: tensor)
        return modulesToSave.contains { module in
            guard module.count <= path.count else { return false }
            return (0...(path.count - module.count)).contains { start in
                zip(path[start..<(start + module.count)], module).allSatisfy { $0 == $1 }
            }
        }
    }
}
