
/// The hyper-parameters of a training run. The defaults are those a user of the `adapters` library gets from
/// `train_adapter` with `AdapterTrainer` and a `TrainingArguments` left at its defaults: AdamW (β 0.9, 0.999,
/// ε 1e-8), learning rate 5e-5 with a linear decay and no warm-up, no weight decay, gradient norm clipped to 1,
/// 3 epochs of batches of 8, seed 42; inputs up to 128 tokens (the library's `run_glue.py` example).
public struct TrainingOptions: Sendable, Equatable {
    public var epochs: Int
    public var learningRate: Float
    public var batchSize: Int
    /// The longest input in tokens, special tokens included; longer texts are truncated.
    public var maxLength: Int
    public var seed: UInt64
    /// AdamW's decoupled weight decay λ, for parameters whose `decays` is true (not biases, not LayerNorms).
    public var weightDecay: Float
    /// The fraction of all steps spent warming the rate up from 0.
    public var warmupRatio: Double
    /// Gradients are clipped to this global norm; 0 turns clipping off.
    public var maxGradientNorm: Double
    /// Dropout in training steps, with the probabilities of the model's configs.
    public var dropout: Bool

    public init(
        epochs: Int = 3, learningRate: Float = 5e-5, batchSize: Int = 8, maxLength: Int = 128, seed: UInt64 = 42,
        weightDecay: Float = 0, warmupRatio: Double = 0, maxGradientNorm: Double = 1, dropout: Bool = true
    ) {
        self.epochs = epochs
        self.learningRate = learningRate
        self.batchSize = batchSize
        self.maxLength = maxLength
        self.seed = seed
        self.weightDecay = weightDecay
        self.warmupRatio = warmupRatio
        self.maxGradientNorm = maxGradientNorm
        self.dropout = dropout
    }

    /// - Throws: `QuiverError(.invalidInput)` naming the first option out of range.
    public func validate() throws {
        func check(_ condition: Bool, _ message: String) throws {
            if !condition { throw QuiverError(.invalidInput, message) }
        }
        try check(epochs >= 1, "epochs must be at least 1 (got \(epochs))")
        try check(learningRate > 0 && learningRate.isFinite, "learning rate must be positive (got \(learningRate))")
        try check(batchSize >= 1, "batch size must be at least 1 (got \(batchSize))")
        try check(maxLength >= 2, "max length must be at least 2 tokens, room for [CLS] and [SEP] (got \(maxLength))")
        try check(weightDecay >= 0 && weightDecay.isFinite, "weight decay must not be negative (got \(weightDecay))")
        try check(warmupRatio >= 0 && warmupRatio <= 1, "warm-up ratio must be between 0 and 1 (got \(warmupRatio))")
        try check(maxGradientNorm >= 0 && !maxGradientNorm.isNaN, "max gradient norm must not be negative (got \(maxGradientNorm))")
    }
}
