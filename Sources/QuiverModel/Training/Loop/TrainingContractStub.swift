// TEMPORARY: the training contract that branch `backward` implements in Sources/QuiverModel/Training/.
// It lets the optimizer and the loop compile before that branch lands; the merge of `backward` deletes
// this file. Nothing here is the real implementation.
import QuiverStore

/// One trainable tensor: its values and the gradient that `trainStep` adds to.
public final class Parameter: @unchecked Sendable {
    public let name: String
    public let aliases: [String]
    public let shape: [Int]
    public let value: FloatBuffer
    public let gradient: FloatBuffer
    /// Whether weight decay applies (not to biases and LayerNorm weights).
    public let decays: Bool

    public init(name: String, aliases: [String] = [], shape: [Int], value: FloatBuffer, decays: Bool) {
        self.name = name
        self.aliases = aliases
        self.shape = shape
        self.value = value
        self.gradient = FloatBuffer(count: value.count)
        self.decays = decays
    }

    public var count: Int { value.count }
    public func zeroGradient() { gradient.pointer.update(repeating: 0, count: gradient.count) }
}

/// A padded batch and one label index per item.
public struct TrainingBatch {
    public var input: EncoderInput
    public var labels: [Int]

    public init(input: EncoderInput, labels: [Int]) {
        self.input = input
        self.labels = labels
    }
}

/// A model whose trainable parameters `trainStep` gives gradients to.
public protocol TrainableModel: AnyObject {
    var parameters: [Parameter] { get }
    /// Forward and backward on one batch: mean cross-entropy and logits; ADDS to every parameter's gradient.
    func trainStep(_ batch: TrainingBatch, dropout: Bool, random: inout SeededGenerator) throws -> (loss: Float, logits: [[Float]])
    /// Inference logits (no dropout).
    func logits(_ input: EncoderInput) throws -> [[Float]]
    /// An adapters-library folder by file name.
    func exportFiles() throws -> [String: [UInt8]]
}
