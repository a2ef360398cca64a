/// What one epoch gave: the training loss and speed, and the scores on the evaluation data when there is some.
public struct EpochRecord: Sendable, Equatable, Codable {
    /// 1-based.
    public var epoch: Int
    /// Mean cross-entropy over the epoch's examples (each batch's mean loss weighted by its size).
    public var trainLoss: Double
    /// Training examples per second of training steps (evaluation not counted). Not stored: see `CodingKeys`.
    public var examplesPerSecond: Double = 0
    /// Seconds of training steps. Not stored.
    public var seconds: Double = 0
    public var devAccuracy: Double?
    public var devMacroF1: Double?

    public init(
        epoch: Int, trainLoss: Double, examplesPerSecond: Double, seconds: Double, devAccuracy: Double? = nil,
        devMacroF1: Double? = nil
    ) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.examplesPerSecond = examplesPerSecond
        self.seconds = seconds
        self.devAccuracy = devAccuracy
        self.devMacroF1 = devMacroF1
    }

    /// What a training record stores: no timings, so that a seeded run stored again is the same content (and
    /// `push` finds it unchanged) rather than a new version that differs only in how long it took.
    enum CodingKeys: String, CodingKey {
        case epoch
        case trainLoss = "train_loss"
        case devAccuracy = "dev_accuracy"
        case devMacroF1 = "dev_macro_f1"
    }

    /// Whether this epoch's evaluation beats `other`'s: higher macro-F1, then higher accuracy.
    func scoresAbove(_ other: EpochRecord) -> Bool {
        let mine = (devMacroF1 ?? -1, devAccuracy ?? -1), theirs = (other.devMacroF1 ?? -1, other.devAccuracy ?? -1)
        return mine > theirs
    }
}

/// The outcome of `Trainer.train`: every epoch, and which one's weights the model holds now.
public struct TrainingReport: Sendable, Equatable {
    public var epochs: [EpochRecord]
    /// 1-based: the epoch with the best evaluation scores (the earliest of equals), or the last epoch
    /// when there was no evaluation data.
    public var bestEpoch: Int
    /// Optimizer steps taken.
    public var steps: Int

    public var best: EpochRecord { epochs[bestEpoch - 1] }
}

/// What a running `Trainer` tells its observer.
public enum TrainingEvent: Sendable {
    /// After each optimizer step.
    case step(TrainingProgress)
    /// Before the evaluation at the end of an epoch.
    case evaluating(epoch: Int, examples: Int)
    /// At the end of an epoch; `isBest` when its weights are the ones kept so far.
    case epochFinished(EpochRecord, isBest: Bool)
}

/// Where a run is, for a progress bar.
public struct TrainingProgress: Sendable, Equatable {
    public var epoch: Int
    public var epochs: Int
    /// Steps done in this epoch, and its number of steps.
    public var step: Int
    public var stepsPerEpoch: Int
    /// Steps done in the run, and its number of steps.
    public var completedSteps: Int
    public var totalSteps: Int
    /// Mean loss of the epoch so far.
    public var loss: Double
    /// Training examples per second over the epoch so far.
    public var examplesPerSecond: Double
    /// Estimated seconds until the last step (evaluations not counted).
    public var secondsLeft: Double
    public var learningRate: Float
}
