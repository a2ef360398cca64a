import QuiverStore

/// One batch of labelled examples.
public struct TrainingBatch: Sendable {
    /// Padded token ids.
    public var input: EncoderInput
    /// One class index per item.
    public var labels: [Int]

    public init(input: EncoderInput, labels: [Int]) {
        self.input = input
        self.labels = labels
    }
}

/// A model whose trainable parameters an optimiser updates: an adapter, LoRA or fusion with its head, on a frozen
/// base model.
public protocol TrainableModel: AnyObject {
    var parameters: [Parameter] { get }

    /// Forward and backward on one batch: ADDS gradients into `Parameter.gradient` (the caller zeroes them) and
    /// returns the mean cross-entropy loss (plus the fusion regularisation when the model has it) and the logits.
    ///
    /// `dropout`: apply the configurations' dropout probabilities (training) or not (evaluation); `random` drives
    /// the masks.
    func trainStep(_ batch: TrainingBatch, dropout: Bool, random: inout SeededGenerator) throws -> (
        loss: Float, logits: [[Float]]
    )

    /// Logits without gradients (evaluation).
    func logits(_ input: EncoderInput) throws -> [[Float]]

    /// The trained model as the files of an `adapters`-library folder, loadable by `TaskModel.adapter(…)` /
    /// `.fusion(…)` and by `quiver push` / `quiver fuse --from`.
    func exportFiles() throws -> [String: [UInt8]]
}
