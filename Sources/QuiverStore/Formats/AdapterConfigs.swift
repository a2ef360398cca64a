import QuiverTensor

// Typed views of the adapter, fusion and head configurations the `adapters` library and PEFT save.
// Parsing refuses every flag whose math Quiver does not implement, so a push fails rather than an
// adapter silently computing something else.

/// A bottleneck adapter (`adapters`' `BnConfig`: seq_bn, double_seq_bn and their variants).
public struct BottleneckConfig: Sendable, Equatable {
    public enum Scaling: Sendable, Equatable {
        case fixed(Float)
        /// One learned scalar, saved as the tensor `scaling` of shape [1].
        case learned
        /// One learned value per channel, saved as the tensor `scaling` of shape [hidden].
        case channel
    }

    /// `residual_before_ln`: where the adapter's residual is taken.
    public enum ResidualSource: Sendable, Equatable {
        /// Before the original LayerNorm: the sublayer output itself (`true`).
        case beforeLayerNorm
        /// After the original LayerNorm (`false`).
        case afterLayerNorm
        /// After adding the sublayer's input, before its LayerNorm (`"post_add"`).
        case postAdd
    }

    /// `mh_adapter`: an adapter after the attention block.
    public var attentionAdapter: Bool
    /// `output_adapter`: an adapter after the feed-forward block.
    public var outputAdapter: Bool
    public var nonLinearity: Nonlinearity
    public var originalLayerNormBefore: Bool
    public var originalLayerNormAfter: Bool
    public var residual: ResidualSource
    public var layerNormBefore: Bool
    public var layerNormAfter: Bool
    public var adapterResidualBeforeLayerNorm: Bool
    public var scaling: Scaling
    public var leaveOut: Set<Int>
    /// `dropout`: the probability of dropping `up·scaling` in training (default 0).
    public var dropout: Float
    /// `reduction_factor` as the config holds it: a number, or an object of layer keys (and `"default"`) to
    /// numbers; nil when absent. The weights' shapes, not this, decide the bottleneck sizes when loading.
    public var reductionFactor: JSONValue?

    public init(json config: JSONValue, source: String) throws {
        func flag(_ key: String, default value: Bool) throws -> Bool {
            guard let field = config[key], !field.isNull else { return value }
            guard let bool = field.boolValue else { throw QuiverError(.invalidInput, "\(source): \"\(key)\" must be true or false") }
            return bool
        }
        func refuse(_ key: String, when condition: Bool, _ what: String) throws {
            if condition { throw QuiverError(.unsupported, "\(source): \(what) (\(key)) is not supported") }
        }
        try refuse("is_parallel", when: try flag("is_parallel", default: false), "parallel bottleneck adapters")
        try refuse("phm_layer", when: try flag("phm_layer", default: false), "PHM/Compacter adapters")
        try refuse("use_gating", when: try flag("use_gating", default: false), "gated adapters")
        try refuse("inv_adapter", when: !(config["inv_adapter"]?.isNull ?? true), "invertible adapters")
        try refuse("cross_adapter", when: try flag("cross_adapter", default: false), "cross-attention adapters")
        if let depth = config["stochastic_depth"]?.doubleValue, depth != 0 {
            // Stochastic depth only drops paths while training; inference is unaffected.
            _ = depth
        }
        attentionAdapter = try flag("mh_adapter", default: false)
        outputAdapter = try flag("output_adapter", default: true)
        guard attentionAdapter || outputAdapter else {
            throw QuiverError(.invalidInput, "\(source): bottleneck adapter with neither mh_adapter nor output_adapter")
        }
        let activation = config["non_linearity"]?.stringValue ?? "relu"
        guard let nonLinearity = Nonlinearity(configurationName: activation) else {
            throw QuiverError(.unsupported, "\(source): non_linearity \"\(activation)\" is not supported (relu, gelu, swish/silu, tanh, sigmoid)")
        }
        self.nonLinearity = nonLinearity
        originalLayerNormBefore = try flag("original_ln_before", default: true)
        originalLayerNormAfter = try flag("original_ln_after", default: true)
        switch config["residual_before_ln"] {
        case .bool(true)?, nil, .null?: residual = .beforeLayerNorm
        case .bool(false)?: residual = .afterLayerNorm
        case .string("post_add")?: residual = .postAdd
        default: throw QuiverError(.invalidInput, "\(source): \"residual_before_ln\" must be true, false or \"post_add\"")
        }
        layerNormBefore = try flag("ln_before", default: false)
        layerNormAfter = try flag("ln_after", default: false)
        adapterResidualBeforeLayerNorm = try flag("adapter_residual_before_ln", default: false)
        switch config["scaling"] {
        case nil, .null?: scaling = .fixed(1)
        case .string("learned")?: scaling = .learned
        case .string("channel")?: scaling = .channel
        case let value?:
            guard let number = value.doubleValue else {
                throw QuiverError(.invalidInput, "\(source): \"scaling\" must be a number, \"learned\" or \"channel\"")
            }
            scaling = .fixed(Float(number))
        }
        leaveOut = try parseLeaveOut(config, source: source)
        if let factor = config["reduction_factor"], !factor.isNull {
            try validateReductionFactor(factor, source: source)
            reductionFactor = factor
        } else {
            reductionFactor = nil
        }
        dropout = try parseProbability(config, "dropout", source: source) ?? 0
        try validate(source: source)
    }

    /// Refuses combinations of flags that have no meaning: a push, a load and a training run all stop here.
    public func validate(source: String) throws {
        if residual == .postAdd, !originalLayerNormBefore {
            // The sublayer's input is added in the original LayerNorm step; without it there is no sum to take.
            throw QuiverError(.invalidInput, "\(source): residual_before_ln \"post_add\" needs original_ln_before (the adapters library fails on it too)")
        }
    }

    /// The preset name that describes where the adapters sit.
    public var architecture: String {
        switch (attentionAdapter, outputAdapter) {
        case (true, true): "double_seq_bn"
        case (false, true): "seq_bn"
        default: "bottleneck"
        }
    }
}

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

/// AdapterFusion (`adapters`' `AdapterFusionConfig`: static, dynamic and their flags).
public struct FusionConfig: Sendable, Equatable {
    public var query: Bool
    public var key: Bool
    public var value: Bool
    public var valueBeforeSoftmax: Bool
    public var residualBefore: Bool
    public var queryBeforeLayerNorm: Bool
    /// The softmax temperature: 50 at the first forward after loading when `temperature` is set
    /// (the library lowers it on every call and never saves it), else 1.
    public var temperature: Float
    public var regularization: Bool
    /// `value_initialized`: a new value matrix starts at the identity (1e-6 off the diagonal). Initialisation only.
    public var valueInitialized: Bool
    /// `dropout_prob`: dropout on the raw attention scores in training; nil (null) means the base model's
    /// `attention_probs_dropout_prob`.
    public var dropoutProbability: Float?

    public init(json config: JSONValue, source: String) throws {
        func flag(_ key: String, default value: Bool) throws -> Bool {
            guard let field = config[key], !field.isNull else { return value }
            guard let bool = field.boolValue else { throw QuiverError(.invalidInput, "\(source): \"\(key)\" must be true or false") }
            return bool
        }
        query = try flag("query", default: true)
        key = try flag("key", default: true)
        value = try flag("value", default: true)
        valueBeforeSoftmax = try flag("value_before_softmax", default: true)
        residualBefore = try flag("residual_before", default: false)
        queryBeforeLayerNorm = try flag("query_before_ln", default: false)
        temperature = try flag("temperature", default: false) ? 50 : 1
        regularization = try flag("regularization", default: false)
        valueInitialized = try flag("value_initialized", default: false)
        dropoutProbability = try parseProbability(config, "dropout_prob", source: source)
    }

    public static func preset(_ name: String) -> FusionConfig? {
        let json: JSONValue
        switch name {
        case "dynamic":
            json = .object([("query", .bool(true)), ("key", .bool(true)), ("value", .bool(true)), ("value_before_softmax", .bool(true)),
                            ("residual_before", .bool(false)), ("query_before_ln", .bool(false)), ("temperature", .bool(false)),
                            ("regularization", .bool(true)), ("value_initialized", .bool(true))])
        case "static":
            json = .object([("query", .bool(true)), ("key", .bool(true)), ("value", .bool(false)), ("value_before_softmax", .bool(true)),
                            ("residual_before", .bool(false)), ("query_before_ln", .bool(false)), ("temperature", .bool(false)),
                            ("regularization", .bool(false)), ("value_initialized", .bool(false))])
        default: return nil
        }
        return try? FusionConfig(json: json, source: name)
    }
}

/// A prediction head (`adapters`' classification head: CLS → dropout → Linear → act → dropout → Linear).
public struct HeadConfig: Sendable, Equatable {
    public var type: String
    public var layers: Int
    public var activation: Nonlinearity
    public var labels: [String]
    public var usePooler: Bool
    public var bias: Bool
    /// `dropout_prob`: dropout before each Linear of the head in training; nil (null) means the base model's
    /// `classifier_dropout`, else its `hidden_dropout_prob`.
    public var dropoutProbability: Float?

    /// The most labels a head may declare (`num_labels`): a config is read before its weights, so a huge count
    /// must be refused here rather than allocated.
    public static let maximumLabels = 100_000

    public init(json headConfig: JSONValue, source: String) throws {
        guard let config = headConfig["config"], config.objectValue != nil else {
            throw QuiverError(.invalidInput, "\(source): missing \"config\" object")
        }
        guard let type = config["head_type"]?.stringValue else {
            throw QuiverError(.invalidInput, "\(source): missing \"head_type\"")
        }
        guard ["classification", "multilabel_classification"].contains(type) else {
            throw QuiverError(.unsupported, "\(source): head_type \"\(type)\" is not supported (classification, multilabel_classification)")
        }
        self.type = type
        layers = config["layers"]?.intValue ?? 2
        guard layers >= 1 else { throw QuiverError(.invalidInput, "\(source): \"layers\" must be at least 1") }
        let activationName = config["activation_function"]?.stringValue ?? "tanh"
        guard let activation = Nonlinearity(configurationName: activationName) else {
            throw QuiverError(.unsupported, "\(source): head activation_function \"\(activationName)\" is not supported")
        }
        self.activation = activation
        usePooler = config["use_pooler"]?.boolValue ?? false
        if usePooler { throw QuiverError(.unsupported, "\(source): heads on the pooler output (use_pooler) are not supported") }
        bias = config["bias"]?.boolValue ?? true
        dropoutProbability = try parseProbability(config, "dropout_prob", source: source)
        if let count = config["num_labels"]?.intValue, !(0...Self.maximumLabels).contains(count) {
            throw QuiverError(.invalidInput, "\(source): num_labels \(count) is not in 0...\(Self.maximumLabels)")
        }
        if let mapping = config["label2id"]?.objectValue {
            var labels = [String?](repeating: nil, count: mapping.count)
            for (label, id) in mapping {
                guard let index = id.intValue, index >= 0, index < mapping.count, labels[index] == nil else {
                    throw QuiverError(.invalidInput, "\(source): label2id must map labels to ids 0..<\(mapping.count) once each")
                }
                labels[index] = label
            }
            self.labels = labels.map { $0! }
        } else {
            let count = config["num_labels"]?.intValue ?? 0
            labels = (0..<count).map { "LABEL_\($0)" }
        }
        if let count = config["num_labels"]?.intValue, count != labels.count {
            throw QuiverError(.invalidInput, "\(source): num_labels \(count) but label2id has \(labels.count) labels")
        }
        guard !labels.isEmpty else { throw QuiverError(.invalidInput, "\(source): a classification head needs labels") }
    }
}

// MARK: - Shared parsing

private func parseLeaveOut(_ config: JSONValue, source: String) throws -> Set<Int> {
    guard let field = config["leave_out"], !field.isNull else { return [] }
    guard let values = field.arrayValue else { throw QuiverError(.invalidInput, "\(source): \"leave_out\" must be a list of layer indices") }
    var layers = Set<Int>()
    for value in values {
        guard let layer = value.intValue, layer >= 0 else {
            throw QuiverError(.invalidInput, "\(source): \"leave_out\" must hold non-negative layer indices")
        }
        layers.insert(layer)
    }
    return layers
}

private func parseProbability(_ config: JSONValue, _ key: String, source: String) throws -> Float? {
    guard let field = config[key], !field.isNull else { return nil }
    guard let value = field.doubleValue, value >= 0, value < 1 else {
        throw QuiverError(.invalidInput, "\(source): \"\(key)\" must be a number in [0, 1)")
    }
    return Float(value)
}

/// The smallest reduction factor accepted: a bottleneck at most 64 times the hidden size. Smaller (or
/// denormal) factors would size a bottleneck beyond any memory, or beyond `Int`, when `train` builds it.
let minimumReductionFactor = 1.0 / 64

private func validateReductionFactor(_ factor: JSONValue, source: String) throws {
    if let number = factor.doubleValue {
        guard number >= minimumReductionFactor else {
            throw QuiverError(.invalidInput, "\(source): \"reduction_factor\" must be at least 1/64 (got \(number))")
        }
        return
    }
    guard let mapping = factor.objectValue else {
        throw QuiverError(.invalidInput, "\(source): \"reduction_factor\" must be a number or a mapping of layers to numbers")
    }
    for (key, value) in mapping {
        guard key == "default" || Int(key) != nil, let number = value.doubleValue, number >= minimumReductionFactor else {
            throw QuiverError(.invalidInput, "\(source): \"reduction_factor\" entry \"\(key)\" must map a layer index or \"default\" to a number of at least 1/64")
        }
    }
}
