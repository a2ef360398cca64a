
/// The optimizer's side of a training run, one batch at a time, in the order of the `adapters` library's trainer
/// (`AdapterTrainer`, the Hugging Face `Trainer` with the library's callback):
///
/// 1. zero the gradients; forward and backward on the batch (`TrainableModel.trainStep`);
/// 2. from the second step on, add the model's regularisation (AdapterFusion's value regularisation): the
///    library back-propagates it after each step, at the weights that step made, into the next step's gradients
///    — the same gradients, added here at the start of the next step; the first step has none;
/// 3. clip the global gradient norm; one AdamW step at the schedule's rate for this step.
///
/// `Trainer` runs it over epochs of shuffled batches; the training parity tests run it over the batches the
/// library's trainer recorded, and compare every trainable tensor after 1, 10 and 60 steps.
public final class TrainingSteps {
    public let model: any TrainableModel
    public let schedule: LearningRateSchedule
    let optimizer: AdamW
    let maxGradientNorm: Double
    let dropout: Bool

    /// What one step did.
    public struct Outcome: Sendable {
        /// The batch's mean cross-entropy (without the regularisation, as the library's trainer logs it).
        public var loss: Float
        /// The rate the step used.
        public var learningRate: Float
        /// The global gradient norm before clipping.
        public var gradientNorm: Double
    }

    public init(model: any TrainableModel, options: TrainingOptions, totalSteps: Int) {
        self.model = model
        optimizer = AdamW(parameters: model.parameters, configuration: .init(weightDecay: options.weightDecay))
        schedule = LearningRateSchedule(peak: options.learningRate, totalSteps: totalSteps, warmupRatio: options.warmupRatio)
        maxGradientNorm = options.maxGradientNorm
        dropout = options.dropout
    }

    /// Optimizer steps taken.
    public var completed: Int { optimizer.stepCount }

    /// One optimizer step on `batch`; `random` drives the dropout masks.
    ///
    /// - Throws: `QuiverError(.invalidInput)` when the loss is not finite (the message suggests a lower rate).
    public func step(_ batch: TrainingBatch, random: inout SeededGenerator) throws -> Outcome {
        optimizer.zeroGradients()
        let (loss, _) = try model.trainStep(batch, dropout: dropout, random: &random)
        guard loss.isFinite else {
            throw QuiverError(.invalidInput, "training diverged: the loss is \(loss) at step \(completed + 1) of \(schedule.totalSteps); try a lower learning rate (--lr)")
        }
        if completed > 0 { model.addRegularization() }
        let norm = GradientClipping.clip(model.parameters, maxNorm: maxGradientNorm)
        let rate = schedule.rate(atStep: completed)
        optimizer.step(learningRate: rate)
        return Outcome(loss: loss, learningRate: rate, gradientNorm: norm)
    }

    /// Sets every gradient to zero (after the last step, so that a model at rest holds none).
    public func zeroGradients() { optimizer.zeroGradients() }
}
