import QuiverTensor

/// A tensor the forward pass reads: trainable (it belongs to a `Parameter`) or frozen.
struct Weight: @unchecked Sendable {
    let value: FloatBuffer
    let parameter: Parameter?

    init(frozen value: FloatBuffer) {
        self.value = value
        parameter = nil
    }

    init(_ parameter: Parameter) {
        value = parameter.value
        self.parameter = parameter
    }

    var pointer: UnsafePointer<Float> { value.readPointer }
    var isTrainable: Bool { parameter != nil }
}

/// A Linear layer, `y = x · Wᵀ + b`, with W (outFeatures, inFeatures).
struct TrainLinear: @unchecked Sendable {
    let weight: Weight
    let bias: Weight?
    let inFeatures: Int
    let outFeatures: Int

    var isTrainable: Bool { weight.isTrainable || bias?.isTrainable == true }

    init(weight: Weight, bias: Weight?, inFeatures: Int, outFeatures: Int) {
        precondition(weight.value.count == inFeatures * outFeatures && (bias?.value.count ?? outFeatures) == outFeatures)
        self.weight = weight
        self.bias = bias
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }

    init(frozen linear: LinearWeights) {
        self.init(
            weight: Weight(frozen: linear.weight), bias: Weight(frozen: linear.bias), inFeatures: linear.inFeatures,
            outFeatures: linear.outFeatures)
    }

    /// output (rows, out) = input (rows, in) · Wᵀ + b.
    func forward(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, rows: Int) {
        Linear.forward(
            input, weight: weight.pointer, bias: bias?.pointer, into: output, rows: rows, inFeatures: inFeatures,
            outFeatures: outFeatures)
    }

    /// Accumulates the weight and bias gradients (when trainable) and `inputGradient` (when given).
    func backward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?, rows: Int, sink: GradientSink
    ) {
        Linear.backward(
            input: input, weight: weight.pointer, outputGradient: outputGradient, inputGradient: inputGradient,
            weightGradient: sink[weight], biasGradient: bias.flatMap { sink[$0] }, rows: rows, inFeatures: inFeatures,
            outFeatures: outFeatures)
    }

    /// The inference form, sharing the buffers.
    var linearWeights: LinearWeights {
        LinearWeights(
            weight: weight.value, bias: bias?.value ?? FloatBuffer(count: outFeatures), inFeatures: inFeatures,
            outFeatures: outFeatures)
    }
}

/// A LayerNorm, `y = (x − mean)·rstd·γ + β`.
struct TrainNorm: @unchecked Sendable {
    let gamma: Weight
    let beta: Weight
    let epsilon: Float

    var size: Int { gamma.value.count }
    var isTrainable: Bool { gamma.isTrainable || beta.isTrainable }

    init(gamma: Weight, beta: Weight, epsilon: Float) {
        self.gamma = gamma
        self.beta = beta
        self.epsilon = epsilon
    }

    init(frozen norm: LayerNormWeights) {
        self.init(gamma: Weight(frozen: norm.gamma), beta: Weight(frozen: norm.beta), epsilon: norm.epsilon)
    }

    var layerNormWeights: LayerNormWeights { LayerNormWeights(gamma: gamma.value, beta: beta.value, epsilon: epsilon) }
}

/// Where one slice of a training step writes its parameter gradients.
///
/// The first slice of a step adds straight into `Parameter.gradient`; each other slice into buffers of its own,
/// which the step then adds to the parameters' gradients in slice order. The sums are therefore the same whatever
/// thread ran which slice: a run is repeatable bit for bit.
final class GradientSink: @unchecked Sendable {
    private let buffers: [FloatBuffer]?

    /// Straight into the parameters' gradients.
    init() { buffers = nil }

    /// Into buffers of its own, one per parameter (zeroed).
    init(shadowing parameters: [Parameter]) {
        buffers = parameters.map { FloatBuffer(count: $0.count) }
    }

    /// The gradient buffer of a trainable weight; nil for a frozen one.
    subscript(weight: Weight) -> UnsafeMutablePointer<Float>? {
        guard let parameter = weight.parameter else { return nil }
        return self[parameter]
    }

    subscript(parameter: Parameter) -> UnsafeMutablePointer<Float> {
        buffers?[parameter.index].pointer ?? parameter.gradient.pointer
    }

    /// Zeroes the buffers of its own.
    func zero() {
        for buffer in buffers ?? [] { buffer.pointer.update(repeating: 0, count: buffer.count) }
    }

    /// Adds the buffers of its own to the parameters' gradients.
    func addInto(_ parameters: [Parameter]) {
        guard let buffers else { return }
        for parameter in parameters {
            Elementwise.accumulate(
                buffers[parameter.index].readPointer, into: parameter.gradient.pointer, count: parameter.count)
        }
    }
}
