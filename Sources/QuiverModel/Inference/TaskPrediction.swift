/// What one task predicts for one text.
public struct TaskPrediction: Sendable, Codable, Equatable {
    public var text: String
    /// The second text of a pair, if any.
    public var textPair: String?
    /// One logit per label; nil for a task without a head.
    public var logits: [Float]?
    /// The best label (classification), or nil without a head.
    public var label: String?
    /// Its softmax probability.
    public var score: Float?
    /// For multi-label heads: every label whose sigmoid is above 0.5.
    public var labels: [String]?
    /// For a task without a head: the mean-pooled hidden state with the adapters active.
    public var embedding: [Float]?

    enum CodingKeys: String, CodingKey {
        case text
        case textPair = "text_pair"
        case logits, label, score, labels, embedding
    }
}

/// Predictions of one task for every text.
public struct TaskResults: Sendable, Codable, Equatable {
    public var task: String
    public var results: [TaskPrediction]

    public init(task: String, results: [TaskPrediction]) {
        self.task = task
        self.results = results
    }
}
