import Foundation
import QuiverTensor

/// Runs one or several tasks over a list of texts on one base model.
///
/// Texts are tokenized (on every core), packed without padding, and run in passes of as many texts as fit the
/// `budget`, in the order given. With several tasks, the work below the first place any task changes (`BranchPoint`)
/// runs once for all of them; above it, the tasks' copies of the pass run as one mixed batch (each item its task's
/// adapters), so the base model's matrix products run once per layer for every task together.
public struct MultiTaskRunner: Sendable {
    public let base: BaseModel
    public var budget: PassBudget
    public var maxLength: Int
    public var threads: Int

    /// The most sequences one encoder pass runs (texts × tasks).
    public static let maximumSequencesPerPass = PassBudget.maximumSequences

    /// - Parameters:
    ///   - batchSize: the most texts of one pass (default: as many as `tokensPerPass` allows); never more than
    ///     `maximumSequencesPerPass` texts × tasks.
    ///   - tokensPerPass: the most tokens of one pass, every task's copy counted.
    public init(
        base: BaseModel, batchSize: Int? = nil, maxLength: Int? = nil, tokensPerPass: Int = PassBudget.defaultTokens,
        threads: Int = BertEncoder.defaultThreads
    ) {
        self.base = base
        self.budget = PassBudget(tokens: tokensPerPass, texts: batchSize ?? PassBudget.maximumSequences)
        self.maxLength = min(maxLength ?? base.maxLength, base.maxLength)
        self.threads = max(1, threads)
    }

    /// Predictions per task, in the order of `tasks`, each in the order of `texts`.
    public func predict(_ tasks: [TaskModel], texts: [String], pairs: [String?]? = nil) throws -> [TaskResults] {
        precondition(pairs == nil || pairs!.count == texts.count, "predict: one pair per text")
        let encodings = base.tokenizer.encodeAll(texts, pairs: pairs, maxLength: maxLength, threads: threads)
        var results = tasks.map { TaskResults(task: $0.name, results: []) }
        for pass in budget.passes(lengths: encodings.map(\.count), copies: tasks.count) {
            let states = try run([PassGroup(encodings: Array(encodings[pass]), tasks: tasks)])[0]
            for (taskIndex, task) in tasks.enumerated() {
                results[taskIndex].results += Self.predictions(
                    task, states: states[taskIndex], texts: texts[pass], pairs: pairs?[pass])
            }
        }
        return results
    }

    /// The hidden states of one encoder pass over several groups of texts, each run through its own tasks: for each
    /// group, for each of its tasks, the states of the group's texts (packed, in order).
    ///
    /// Every text is embedded and runs the work no task changes once (`BranchPoint`: whole layers, and the first
    /// changed layer up to its output sublayer when that is where every task starts); from there, each (group, task)
    /// pair is a copy of the group's rows with the task's composition, all in one mixed batch.
    public func run(_ groups: [PassGroup]) throws -> [[HiddenStates]] {
        let input = EncoderInput(packing: groups.flatMap(\.encodings))
        let encoder = base.encoder
        let layers = encoder.layerCount
        let branch = groups.flatMap(\.tasks).compactMap(\.composition.branchPoint).min()
        let shared = branch?.layer ?? layers
        do throws(EncoderError) {
            var states = try encoder.embeddings(input, threads: threads)
            try encoder.runLayers(0..<shared, on: &states, threads: threads)
            if groups.count == 1, groups[0].tasks.count == 1 {
                let hooks = CompositionHooks(groups[0].tasks[0].composition, batch: input.batch)
                try encoder.runLayers(shared..<layers, on: &states, hooks: hooks, threads: threads)
                return [[states]]
            }
            // One mixed batch: a copy of each group's items per task of the group.
            var copiedItems: [Range<Int>] = [], compositions: [Composition] = [], itemComposition: [Int] = []
            var first = 0
            for group in groups {
                let items = first..<(first + group.encodings.count)
                first = items.upperBound
                for task in group.tasks {
                    itemComposition += Array(repeating: compositions.count, count: items.count)
                    compositions.append(task.composition)
                    copiedItems.append(items)
                }
            }
            func copies(_ states: HiddenStates) -> HiddenStates {
                HiddenStates(concatenating: copiedItems.map { states.items($0) })
            }
            let hooks = CompositionHooks(compositions: compositions, itemComposition: itemComposition)
            var all: HiddenStates
            if let branch, branch.stage == .outputSublayer {
                let inputs = try encoder.outputSublayerInputs(layer: shared, of: states, threads: threads)
                all = try encoder.finishLayer(
                    shared, from: OutputSublayerInputs(projected: copies(inputs.projected), residual: copies(inputs.residual)),
                    hooks: hooks, threads: threads)
                try encoder.runLayers((shared + 1)..<layers, on: &all, hooks: hooks, threads: threads)
            } else {
                all = copies(states)
                try encoder.runLayers(shared..<layers, on: &all, hooks: hooks, threads: threads)
            }
            var start = 0
            return groups.map { group in
                group.tasks.map { _ in
                    defer { start += group.encodings.count }
                    return all.items(start..<(start + group.encodings.count))
                }
            }
        } catch {
            throw QuiverError(.invalidInput, "\(error)")
        }
    }

    /// A task's predictions from the hidden states of `texts` (and `pairs`): its head's labels and scores, or the
    /// mean-pooled embedding when it has no head.
    public static func predictions(
        _ task: TaskModel, states: HiddenStates, texts: ArraySlice<String>, pairs: ArraySlice<String?>?
    ) -> [TaskPrediction] {
        let logits = task.head?.logits(states)
        let embeddings = task.head == nil ? states.pooled(.mean) : nil
        return texts.indices.enumerated().map { row, index in
            prediction(text: texts[index], pair: pairs?[index], task: task, logits: logits?[row], embedding: embeddings?[row])
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

/// Texts that run through the same tasks in one encoder pass: one request's share of the pass.
public struct PassGroup: Sendable {
    public var encodings: [Encoding]
    /// Tasks on the pass's base model.
    public var tasks: [TaskModel]

    public init(encodings: [Encoding], tasks: [TaskModel]) {
        precondition(!tasks.isEmpty, "PassGroup: no task")
        self.encodings = encodings
        self.tasks = tasks
    }
}
