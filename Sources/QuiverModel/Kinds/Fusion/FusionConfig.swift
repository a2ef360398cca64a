import QuiverTensor

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
