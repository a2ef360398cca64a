
/// A trainable tensor: its values, updated in place by the optimiser, and its gradient.
///
/// The model's forward pass reads `value` directly, so an optimiser step is visible to the next pass without any
/// copy. `gradient` has the same count; `TrainableModel.trainStep` adds to it and the trainer zeroes it.
///
/// ```swift
/// for parameter in model.parameters {
///     // plain SGD
///     for i in 0..<parameter.value.count { parameter.value.pointer[i] -= 0.01 * parameter.gradient.pointer[i] }
///     parameter.zeroGradient()
/// }
/// ```
public final class Parameter: @unchecked Sendable {
    /// The tensor name it is saved under (`adapters`-library or PEFT naming).
    public let name: String
    /// Further names the same tensor is saved under: the `adapters` library saves an `ln_before` LayerNorm twice
    /// (`adapter_down.0.*` and `adapter_norm_before.*`). One tensor, one gradient; export writes it under all.
    public let aliases: [String]
    /// The shape it is saved with.
    public let shape: [Int]
    public let value: FloatBuffer
    /// Same count as `value`; accumulated by backward, zeroed by the trainer.
    public let gradient: FloatBuffer
    /// Whether AdamW's weight decay applies: true for Linear and LoRA matrices and fusion projections, false for
    /// biases, LayerNorm parameters and learned scaling.
    public let decays: Bool
    /// Position in the model's `parameters` (set when the model is built).
    var index = 0

    public init(name: String, aliases: [String] = [], shape: [Int], value: FloatBuffer, decays: Bool) {
        precondition(shape.reduce(1, *) == value.count, "Parameter \(name): shape \(shape) holds \(value.count) values")
        self.name = name
        self.aliases = aliases
        self.shape = shape
        self.value = value
        self.gradient = FloatBuffer(count: value.count)
        self.decays = decays
    }

    /// Number of values.
    public var count: Int { value.count }

    /// Sets the gradient to zero.
    public func zeroGradient() { gradient.pointer.update(repeating: 0, count: gradient.count) }
}
