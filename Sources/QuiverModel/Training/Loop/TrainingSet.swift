
/// A dataset tokenized once for training or evaluation: each example's encoding (truncated to the run's
/// maximum length) and the index of its label in the task's label list.
public struct TrainingSet: Sendable {
    public let dataset: Dataset
    /// The task's labels; `labels[i]` indexes into them.
    public let labelNames: [String]
    public let encodings: [Encoding]
    public let labels: [Int]
    public let paddingID: Int32

    public var count: Int { encodings.count }

    /// - Throws: `QuiverError(.invalidInput)` naming the file and line of the first example whose label is not
    ///   one of `labels`.
    public init(dataset: Dataset, labels: [String], tokenizer: any TextTokenizer, maxLength: Int, task: String) throws {
        self.dataset = dataset
        labelNames = labels
        self.labels = try GoldLabels.indices(of: dataset, in: labels, task: task)
        encodings = dataset.examples.map { tokenizer.encode($0.text, pair: $0.textPair, maxLength: maxLength) }
        paddingID = tokenizer.paddingID
    }

    /// The examples at `indices`, packed without padding.
    public func batch(_ indices: [Int]) -> TrainingBatch {
        TrainingBatch(input: EncoderInput(packing: indices.map { encodings[$0] }), labels: indices.map { labels[$0] })
    }

    /// Every example once in batches of `size`, sorted by length so that batches pad little (for evaluation).
    public func evaluationBatches(size: Int) -> [[Int]] {
        let order = encodings.indices.sorted { (encodings[$0].count, $0) < (encodings[$1].count, $1) }
        return stride(from: 0, to: order.count, by: size).map { Array(order[$0..<min($0 + size, order.count)]) }
    }
}
