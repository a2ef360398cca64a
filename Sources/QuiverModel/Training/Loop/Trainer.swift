import Foundation

/// Trains a `TrainableModel`: epochs over the shuffled training set, each batch a `TrainingSteps` step (AdamW with
/// a linear warm-up and decay, gradient clipping), evaluation after each epoch, and the best epoch's weights kept.
///
/// A run is repeatable bit for bit on one machine: the batch order comes from the seed (through
/// `Dataset.batches(size:seed:epoch:)`), dropout draws from a generator seeded from it too, and the
/// optimizer and the gradient norm reduce in a fixed order.
///
/// ```swift
/// let trainer = Trainer(model: model, options: TrainingOptions(epochs: 3, learningRate: 1e-4))
/// let report = try trainer.train(trainSet, dev: devSet) { event in … }
/// print(report.best.devMacroF1!)      // the model now holds that epoch's weights
/// ```
public final class Trainer {
    public let model: any TrainableModel
    public let options: TrainingOptions
    /// Seconds between `.step` events (the first and the last step of an epoch are always reported).
    public var progressInterval: Double = 0.2

    public init(model: any TrainableModel, options: TrainingOptions) {
        self.model = model
        self.options = options
    }

    /// Trains for `options.epochs` epochs; with `dev`, evaluates after each epoch and ends holding the best
    /// epoch's weights (highest macro-F1, then accuracy; the earliest of equals).
    ///
    /// - Throws: `QuiverError(.invalidInput)` for options out of range, data whose labels differ from the
    ///   training set's, or a loss that stops being finite (the message suggests a lower rate).
    public func train(
        _ train: TrainingSet, dev: TrainingSet? = nil, progress: (TrainingEvent) -> Void = { _ in }
    ) throws -> TrainingReport {
        try options.validate()
        if let dev, dev.labelNames != train.labelNames {
            throw QuiverError(.invalidInput, "evaluation data \(dev.dataset.source) is scored over different labels than the training data")
        }
        let parameters = model.parameters
        let stepsPerEpoch = (train.count + options.batchSize - 1) / options.batchSize
        let steps = TrainingSteps(model: model, options: options, totalSteps: stepsPerEpoch * options.epochs)
        let schedule = steps.schedule
        var random = SeededGenerator(seed: options.seed ^ 0xD50_F0A7)  // dropout; independent of the batch order
        var records: [EpochRecord] = []
        var best: (epoch: Int, values: [[Float]])?
        var stepTimes = 0.0

        for epoch in 1...options.epochs {
            let batches = train.dataset.batches(size: options.batchSize, seed: options.seed, epoch: epoch - 1)
            var lossSum = 0.0, examples = 0, seconds = 0.0, lastReport = -Double.infinity
            for (index, indices) in batches.enumerated() {
                let started = DispatchTime.now().uptimeNanoseconds
                let outcome = try steps.step(train.batch(indices), random: &random)
                let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
                seconds += elapsed
                stepTimes += elapsed
                lossSum += Double(outcome.loss) * Double(indices.count)
                examples += indices.count

                let completed = steps.completed
                if seconds - lastReport >= progressInterval || index == 0 || index == batches.count - 1 {
                    lastReport = seconds
                    progress(.step(TrainingProgress(
                        epoch: epoch, epochs: options.epochs, step: index + 1, stepsPerEpoch: batches.count,
                        completedSteps: completed, totalSteps: schedule.totalSteps, loss: lossSum / Double(examples),
                        examplesPerSecond: Double(examples) / max(seconds, 1e-9),
                        secondsLeft: stepTimes / Double(completed) * Double(schedule.totalSteps - completed),
                        learningRate: outcome.learningRate)))
                }
            }
            var record = EpochRecord(
                epoch: epoch, trainLoss: lossSum / Double(max(examples, 1)),
                examplesPerSecond: Double(examples) / max(seconds, 1e-9), seconds: seconds)
            if let dev {
                progress(.evaluating(epoch: epoch, examples: dev.count))
                let metrics = try evaluate(dev)
                record.devAccuracy = metrics.accuracy
                record.devMacroF1 = metrics.macroF1
            }
            let isBest = best == nil || dev == nil || record.scoresAbove(records[best!.epoch - 1])
            if isBest {
                // Without evaluation data the last epoch is kept, and the weights need no copy.
                best = (epoch, dev == nil ? [] : parameters.map(\.value.array))
            }
            records.append(record)
            progress(.epochFinished(record, isBest: isBest))
        }
        if let best, dev != nil, best.epoch != options.epochs {
            for (parameter, values) in zip(parameters, best.values) {
                values.withUnsafeBufferPointer { parameter.value.pointer.update(from: $0.baseAddress!, count: values.count) }
            }
        }
        steps.zeroGradients()
        return TrainingReport(epochs: records, bestEpoch: best?.epoch ?? options.epochs, steps: steps.completed)
    }

    /// Accuracy, macro-F1 and per-label counts of the model's current weights on `set` (no dropout).
    public func evaluate(_ set: TrainingSet) throws -> ClassificationMetrics {
        try Self.evaluate(model, on: set, batchSize: max(options.batchSize, 32))
    }

    /// The predictions of `model` on `set`, scored against its gold labels.
    public static func evaluate(_ model: any TrainableModel, on set: TrainingSet, batchSize: Int = 32) throws -> ClassificationMetrics {
        var predicted = [Int](repeating: 0, count: set.count)
        for indices in set.evaluationBatches(size: batchSize) {
            let logits = try model.logits(set.batch(indices).input)
            for (row, item) in indices.enumerated() { predicted[item] = argmax(logits[row]) }
        }
        return ClassificationMetrics(labels: set.labelNames, gold: set.labels, predicted: predicted)
    }

    /// The index of the largest value (the first of equals).
    static func argmax(_ values: [Float]) -> Int {
        var best = 0
        for index in values.indices where values[index] > values[best] { best = index }
        return best
    }
}
