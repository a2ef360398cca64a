import Foundation
import QuiverTensor

/// Runs one or several tasks over a list of texts on one base model.
///
/// With several tasks, the layers below the first one any task changes run once for all of them;
/// above it, the tasks' copies of the batch run as one mixed batch (each item its task's adapters),
/// so the base model's matrix products run once per layer for every task together.
public struct MultiTaskRunner: Sendable {
    public let base: BaseModel
    public var batchSize: Int
    public var maxLength: Int

    /// The most sequences one encoder pass runs (texts × tasks). A pass's memory grows with this number times the
    /// sequence length (attention scores with its square), so larger inputs, batch sizes or task lists are run in
    /// several passes rather than allocated at once.
    public static let maximumSequencesPerPass = 256

    /// Texts per encoder pass for `batchSize` texts and `taskCount` tasks: never more than
    /// `maximumSequencesPerPass` sequences in one pass, and at least one text.
    public static func textsPerPass(batchSize: Int, taskCount: Int) -> Int {
        max(1, min(batchSize, maximumSequencesPerPass / max(1, taskCount)))
    }

    public init(base: BaseModel, batchSize: Int = 32, maxLength: Int? = nil) {
        self.base = base
        self.batchSize = max(1, batchSize)
        self.maxLength = min(maxLength ?? base.maxLength, base.maxLength)
    }

    /// Predictions per task, in the order of `tasks`, each in the order of `texts`.
    public func predict(_ tasks: [TaskModel], texts: [String], pairs: [String?]? = nil) throws -> [TaskResults] {
        precondition(pairs == nil || pairs!.count == texts.count, "predict: one pair per text")
        var results = tasks.map { TaskResults(task: $0.name, results: []) }
        var predictions = tasks.map { _ in [TaskPrediction?](repeating: nil, count: texts.count) }
        // Similar lengths together waste less on padding; results go back to input order.
        let order = texts.indices.sorted { texts[$0].utf8.count < texts[$1].utf8.count }
        let perPass = Self.textsPerPass(batchSize: batchSize, taskCount: tasks.count)
        for start in stride(from: 0, to: order.count, by: perPass) {
            let items = Array(order[start..<min(start + perPass, order.count)])
            let chunkTexts = items.map { texts[$0] }
            let chunkPairs = pairs.map { all in items.map { all[$0] } }
            let states = try run(tasks, texts: chunkTexts, pairs: chunkPairs)
            for (taskIndex, task) in tasks.enumerated() {
                let taskStates = states[taskIndex]
                let logits = task.head?.logits(taskStates)
                let embeddings = task.head == nil ? taskStates.pooled(.mean) : nil
                for (row, item) in items.enumerated() {
                    predictions[taskIndex][item] = Self.prediction(
                        text: texts[item], pair: pairs?[item], task: task, logits: logits?[row], embedding: embeddings?[row])
                }
            }
        }
        for index in tasks.indices { results[index].results = predictions[index].map { $0! } }
        return results
    }

    /// Hidden states of each task for one batch.
    func run(_ tasks: [TaskModel], texts: [String], pairs: [String?]?) throws -> [HiddenStates] {
        let encoding = base.tokenizer.encodeBatch(texts, pairs: pairs, maxLength: maxLength)
        let input = EncoderInput(encoding)
        let encoder = base.encoder
        let shared = tasks.compactMap(\.composition.firstLayer).min() ?? encoder.layerCount
        do {
            var states = try encoder.embeddings(input)
            try encoder.runLayers(0..<shared, on: &states)
            if tasks.count == 1 {
                try encoder.runLayers(shared..<encoder.layerCount, on: &states, hooks: CompositionHooks(tasks[0].composition, batch: input.batch))
                return [states]
            }
            // One mixed batch: task t's copy of item i is item t·batch + i.
            var all = try HiddenStates(
                batch: input.batch * tasks.count, sequenceLength: states.sequenceLength, hiddenSize: states.hiddenSize,
                values: Array([[Float]](repeating: states.values, count: tasks.count).joined()),
                attentionMask: Array([[Int32]](repeating: states.attentionMask, count: tasks.count).joined()))
            let hooks = CompositionHooks(
                compositions: tasks.map(\.composition), itemComposition: tasks.indices.flatMap { Array(repeating: $0, count: input.batch) })
            try encoder.runLayers(shared..<encoder.layerCount, on: &all, hooks: hooks)
            let stride = input.batch * states.sequenceLength * states.hiddenSize
            return try tasks.indices.map { task in
                try HiddenStates(
                    batch: input.batch, sequenceLength: states.sequenceLength, hiddenSize: states.hiddenSize,
                    values: Array(all.values[(task * stride)..<((task + 1) * stride)]), attentionMask: states.attentionMask)
            }
        } catch let error as EncoderError {
            throw QuiverError(.invalidInput, "\(error)")
        }
    }

    static func prediction(text: String, pair: String?, task: TaskModel, logits: [Float]?, embedding: [Float]?) -> TaskPrediction {
        var prediction = TaskPrediction(text: text, textPair: pair, logits: logits, embedding: embedding)
        guard let head = task.head, let logits else { return prediction }
        if head.config.type == .multilabelClassification {
            prediction.labels = zip(head.labels, logits).filter { $0.1 > 0 }.map(\.0)  // sigmoid > 0.5
        } else {
            let best = logits.indices.max { logits[$0] < logits[$1] }!
            let peak = logits[best]
            let total = logits.reduce(Float(0)) { $0 + exp($1 - peak) }
            prediction.label = head.labels[best]
            prediction.score = 1 / total
        }
        return prediction
    }
}
