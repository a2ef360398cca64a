import QuiverTensor

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
    public var architecture: AdapterKind {
        switch (attentionAdapter, outputAdapter) {
        case (true, true): .doubleSeqBn
        case (false, true): .seqBn
        default: .bottleneck
        }
    }
}
