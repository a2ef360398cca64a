import QuiverTensor

/// What every module of one slice of a training step shares: the rows, the slice's memory, where its gradients go,
/// and the step's dropout.
struct SliceContext: @unchecked Sendable {
    /// Rows of the slice: its items' rows.
    let rows: Int
    let hidden: Int
    /// The index of the slice's first row in the whole batch: dropout masks are indexed by position in the batch.
    let firstRow: Int
    let arena: TrainingArena
    let sink: GradientSink
    /// nil in evaluation or when the step has no dropout.
    let dropout: StepDropout?

    var count: Int { rows * hidden }

    // MARK: - LayerNorm with kept statistics

    /// `output = LayerNorm(input)`, keeping what backward needs (input must stay unchanged until then).
    func normForward(
        _ norm: TrainNorm, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
    ) -> NormTape {
        let mean = arena.take(rows), rstd = arena.take(rows)
        Normalization.layerNorm(
            input, into: output, gamma: norm.gamma.pointer, beta: norm.beta.pointer, rows: rows, cols: norm.size,
            epsilon: norm.epsilon, mean: mean, reciprocalStdDev: rstd)
        return NormTape(input: input, mean: mean, rstd: rstd)
    }

    /// `inputGradient += ∂/∂input`, and the gamma and beta gradients when the norm is trainable.
    func normBackward(
        _ norm: TrainNorm, _ tape: NormTape, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>
    ) {
        Normalization.layerNormBackward(
            input: tape.input, outputGradient: outputGradient, gamma: norm.gamma.pointer, mean: tape.mean,
            reciprocalStdDev: tape.rstd, inputGradient: inputGradient, gammaGradient: sink[norm.gamma],
            betaGradient: sink[norm.beta], rows: rows, cols: norm.size)
    }
}

/// A LayerNorm's forward input and row statistics.
struct NormTape {
    let input: UnsafePointer<Float>
    let mean: UnsafePointer<Float>
    let rstd: UnsafePointer<Float>
}
