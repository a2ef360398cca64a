import QuiverTensor

/// A prediction head (`adapters`' classification head: CLS → dropout → Linear → act → dropout → Linear).
public struct HeadConfig: Sendable, Equatable {
    /// `head_type`: the head types this build runs.
    public enum HeadType: String, Sendable, Equatable, CaseIterable {
        case classification
        case multilabelClassification = "multilabel_classification"
    }

    public var type: HeadType
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
        guard let headType = HeadType(rawValue: type) else {
            throw QuiverError(.unsupported, "\(source): head_type \"\(type)\" is not supported (classification, multilabel_classification)")
        }
        self.type = headType
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
