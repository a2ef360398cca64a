
/// One batch of labelled examples.
public struct TrainingBatch: Sendable {
    /// Token ids, packed or padded.
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
    /// returns the mean cross-entropy loss and the logits.
    ///
    /// `dropout`: apply the configurations' dropout probabilities (training) or not (evaluation); `random` drives
    /// the masks.
    func trainStep(_ batch: TrainingBatch, dropout: Bool, random: inout SeededGenerator) throws -> (
        loss: Float, logits: [[Float]]
    )

    /// ADDS the gradient of the model's own regularisation term into `Parameter.gradient` and returns the term:
    /// AdapterFusion's value regularisation `0.01 · Σ ‖I − V‖²_F` over the trainable value matrices; 0 for models
    /// without one. `TrainingSteps` applies it as the `adapters` trainer does.
    @discardableResult
    func addRegularization() -> Double

    /// Logits without gradients (evaluation).
    func logits(_ input: EncoderInput) throws -> [[Float]]

    /// The trained model as the files of an `adapters`-library folder, loadable by `TaskModel.adapter(…)` /
    /// `.fusion(…)` and by `quiver push` / `quiver fuse --from`.
    func exportFiles() throws -> [String: [UInt8]]
}

extension TrainableModel {
    public func addRegularization() -> Double { 0 }
}
