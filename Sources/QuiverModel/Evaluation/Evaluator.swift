
/// Runs a task with a single-label classification head over a dataset and scores its predictions.
///
/// ```swift
/// let (base, tasks) = try registry.loadTasks([try Reference(parsing: "sentiment")])
/// let report = try Evaluator(runner: MultiTaskRunner(base: base)).evaluate(tasks[0], on: try Dataset.load(path: "dev.jsonl"))
/// print(report.metrics.accuracy, report.metrics.macroF1)
/// ```
public struct Evaluator: Sendable {
    public var runner: MultiTaskRunner
    /// Examples predicted at a time: bounds the memory that predictions hold.
    public var chunkSize: Int

    public init(runner: MultiTaskRunner, chunkSize: Int = 4096) {
        self.runner = runner
        self.chunkSize = max(1, chunkSize)
    }

    /// - Throws: `QuiverError` when the task has no head or a multi-label head, or when a gold label
    ///   is not one of the head's (see `GoldLabels`) — checked before anything runs.
    public func evaluate(_ task: TaskModel, on dataset: Dataset) throws -> EvaluationReport {
        let head = try Self.checkedHead(task)
        let gold = try GoldLabels.indices(of: dataset, in: head.labels, task: task.name)
        var byName: [String: Int] = [:]
        for (index, label) in head.labels.enumerated() where byName[label] == nil { byName[label] = index }
        var confusion = ConfusionMatrix(labels: head.labels)
        for start in stride(from: 0, to: dataset.count, by: chunkSize) {
            let examples = dataset.examples[start..<min(start + chunkSize, dataset.count)]
            let pairs: [String?]? = examples.contains { $0.textPair != nil } ? examples.map(\.textPair) : nil
            let predictions = try runner.predict([task], texts: examples.map(\.text), pairs: pairs)[0].results
            for (offset, prediction) in predictions.enumerated() {
                guard let label = prediction.label, let predicted = byName[label] else {
                    throw QuiverError(.corrupt, "\(task.name): the head predicted no label for \(dataset.source):\(examples[start + offset].line)")
                }
                confusion.add(gold: gold[start + offset], predicted: predicted)
            }
        }
        return EvaluationReport(task: task.name, metrics: ClassificationMetrics(confusion: confusion))
    }

    static func checkedHead(_ task: TaskModel) throws -> ClassificationHead {
        guard let head = task.head else {
            throw QuiverError(.unsupported, "\(task.name) has no prediction head, so there are no labels to evaluate (push it with head_config.json and model_head.safetensors)")
        }
        guard head.config.type != .multilabelClassification else {
            throw QuiverError(.unsupported, "\(task.name) has a multi-label head; eval scores single-label classification (one label per row)")
        }
        return head
    }
}

/// What `quiver eval --json` prints: `{"task", "accuracy", "macro_f1", "per_label", "examples", "confusion"}`.
public struct EvaluationReport: Sendable, Equatable, Encodable {
    /// `TASK:VERSION`.
    public var task: String
    public var metrics: ClassificationMetrics

    public init(task: String, metrics: ClassificationMetrics) {
        self.task = task
        self.metrics = metrics
    }

    enum CodingKeys: String, CodingKey {
        case task, accuracy
        case macroF1 = "macro_f1"
        case perLabel = "per_label"
        case examples, confusion
    }

    /// `per_label` is keyed by label; `confusion[gold][predicted]` holds every head label in both places.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(task, forKey: .task)
        try container.encode(metrics.accuracy, forKey: .accuracy)
        try container.encode(metrics.macroF1, forKey: .macroF1)
        let labels = metrics.labels
        var perLabel: [String: LabelMetrics] = [:]
        var confusion: [String: [String: Int]] = [:]
        for (g, label) in labels.enumerated() where perLabel[label] == nil {
            perLabel[label] = metrics.perLabel[g]
            var row: [String: Int] = [:]
            for (p, predicted) in labels.enumerated() where row[predicted] == nil { row[predicted] = metrics.confusion.counts[g][p] }
            confusion[label] = row
        }
        try container.encode(perLabel, forKey: .perLabel)
        try container.encode(metrics.examples, forKey: .examples)
        try container.encode(confusion, forKey: .confusion)
    }
}
