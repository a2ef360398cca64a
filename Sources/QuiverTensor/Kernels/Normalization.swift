/// Layer normalisation over the last dimension, forward and backward, as PyTorch's `nn.LayerNorm`:
/// `y = (x − mean) / √(var + eps) · gamma + beta`, with the biased variance (divided by `cols`).
public enum Normalization {
    // MARK: - Layer norm

    /// Layer norm of each row of `input` into `output` (which may be `input`).
    ///
    /// Mean and variance come from two passes over the row, summed in 4 × 8 float lanes: the mean of x − x[0], then
    /// the variance of the centred values (x − x[0]) − mean(x − x[0]). A large common offset therefore never enters
    /// a sum, and the variance is never a difference of two large numbers. When `mean`/`reciprocalStdDev` are
    /// given, each row's statistics are stored there for `layerNormBackward`.
    public static func layerNorm(
        _ input: UnsafePointer<Float>,  // input is (rows, cols)
        into output: UnsafeMutablePointer<Float>,  // output is (rows, cols)
        gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,  // gamma, beta are (cols)
        rows: Int, cols: Int, epsilon: Float,
        mean meanOutput: UnsafeMutablePointer<Float>? = nil,  // mean is (rows)
        reciprocalStdDev reciprocalStdDevOutput: UnsafeMutablePointer<Float>? = nil  // reciprocalStdDev is (rows)
    ) {
        precondition(cols > 0, "layerNorm: cols \(cols)")
        let inverseCount = 1 / Float(cols)
        for row in 0..<rows {
            let x = input + row * cols
            let y = output + row * cols
            // Statistics of x − pivot, the row's first value: the sums then hold deviations, not the offset, and
            // the centred values (x − pivot) − shiftedMean keep their digits however large the mean.
            let pivotValue = x[0]
            let pivot = FloatVector(repeating: pivotValue)
            // Four independent sums per pass: one would make every addition wait for the one before.
            var deviations = (FloatVector.zero, FloatVector.zero, FloatVector.zero, FloatVector.zero)
            var index = 0
            while index + 32 <= cols {
                deviations.0 += VectorMath.load(x + index) - pivot
                deviations.1 += VectorMath.load(x + index + 8) - pivot
                deviations.2 += VectorMath.load(x + index + 16) - pivot
                deviations.3 += VectorMath.load(x + index + 24) - pivot
                index += 32
            }
            while index + 8 <= cols {
                deviations.0 += VectorMath.load(x + index) - pivot
                index += 8
            }
            if index < cols {
                deviations.0 += VectorMath.loadPartial(x + index, count: cols - index, padding: pivotValue) - pivot
            }
            let shiftedMean = ((deviations.0 + deviations.1) + (deviations.2 + deviations.3)).sum() * inverseCount
            let shiftedMeanVector = FloatVector(repeating: shiftedMean)
            // Σ (x − mean)²; padding lanes of the tail are centred to exactly 0.
            var squares = (FloatVector.zero, FloatVector.zero, FloatVector.zero, FloatVector.zero)
            @inline(__always) func centred(_ offset: Int) -> FloatVector { (VectorMath.load(x + offset) - pivot) - shiftedMeanVector }
            index = 0
            while index + 32 <= cols {
                let (a, b, c, d) = (centred(index), centred(index + 8), centred(index + 16), centred(index + 24))
                squares.0 += a * a
                squares.1 += b * b
                squares.2 += c * c
                squares.3 += d * d
                index += 32
            }
            while index + 8 <= cols {
                let a = centred(index)
                squares.0 += a * a
                index += 8
            }
            if index < cols {
                let tail = VectorMath.loadPartial(x + index, count: cols - index, padding: pivotValue) - pivot
                let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
                let centred = (tail - shiftedMeanVector).replacing(
                    with: 0, where: lanes .>= SIMD8<Int32>(repeating: Int32(cols - index)))
                squares.0 += centred * centred
            }
            let variance = ((squares.0 + squares.1) + (squares.2 + squares.3)).sum() * inverseCount
            let reciprocalStdDev = 1 / (variance + epsilon).squareRoot()
            let scale = FloatVector(repeating: reciprocalStdDev)
            // y = x̂ · gamma + beta in one pass (in place: each value is read before it is written).
            index = 0
            while index + 8 <= cols {
                let normalized = centred(index) * scale * VectorMath.load(gamma + index)
                VectorMath.store(normalized + VectorMath.load(beta + index), to: y + index)
                index += 8
            }
            if index < cols {
                let count = cols - index
                let normalized = ((VectorMath.loadPartial(x + index, count: count) - pivot) - shiftedMeanVector) * scale
                    * VectorMath.loadPartial(gamma + index, count: count)
                VectorMath.storePartial(normalized + VectorMath.loadPartial(beta + index, count: count), to: y + index, count: count)
            }
            let mean = pivotValue + shiftedMean  // (x[0] may be overwritten by now: in place)
            meanOutput?[row] = mean
            reciprocalStdDevOutput?[row] = reciprocalStdDev
        }
    }

    /// Gradients of `layerNorm`, accumulated: `inputGradient += ∂L/∂x`, `gammaGradient += Σ_rows dy·x̂`,
    /// `betaGradient += Σ_rows dy`, with x̂ = (x − mean)·rstd and
    /// `∂L/∂x = rstd · (dy·gamma − mean(dy·gamma) − x̂ · mean(dy·gamma·x̂))`. Pass nil for the gradients of a
    /// frozen LayerNorm's gamma and beta.
    public static func layerNormBackward(
        input: UnsafePointer<Float>,  // input is (rows, cols), the forward input
        outputGradient: UnsafePointer<Float>,  // outputGradient is (rows, cols)
        gamma: UnsafePointer<Float>,  // gamma is (cols)
        mean: UnsafePointer<Float>, reciprocalStdDev: UnsafePointer<Float>,  // (rows), from the forward pass
        inputGradient: UnsafeMutablePointer<Float>,  // inputGradient is (rows, cols)
        gammaGradient: UnsafeMutablePointer<Float>?, betaGradient: UnsafeMutablePointer<Float>?,  // (cols)
        rows: Int, cols: Int
    ) {
        for row in 0..<rows {
            let x = input + row * cols
            let dy = outputGradient + row * cols
            let dx = inputGradient + row * cols
            let rowMean = mean[row]
            let rstd = reciprocalStdDev[row]
            var meanGradient: Float = 0  // Σ dy·gamma
            var meanGradientNormalized: Float = 0  // Σ dy·gamma·x̂
            for col in 0..<cols {
                let normalized = (x[col] - rowMean) * rstd
                let scaledGradient = dy[col] * gamma[col]
                meanGradient += scaledGradient
                meanGradientNormalized += scaledGradient * normalized
            }
            meanGradient /= Float(cols)
            meanGradientNormalized /= Float(cols)
            for col in 0..<cols {
                let normalized = (x[col] - rowMean) * rstd
                let scaledGradient = dy[col] * gamma[col]
                dx[col] += rstd * (scaledGradient - meanGradient - normalized * meanGradientNormalized)
            }
            if let gammaGradient, let betaGradient {
                for col in 0..<cols {
                    betaGradient[col] += dy[col]
                    gammaGradient[col] += (x[col] - rowMean) * rstd * dy[col]
                }
            }
        }
    }

    // MARK: - Reference

    /// Scalar loops in Double that the fast kernels are tested against.
    public enum Reference {
        public static func layerNorm(
            _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
            gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>,
            rows: Int, cols: Int, epsilon: Float
        ) {
            for row in 0..<rows {
                let x = input + row * cols
                var sum = 0.0
                for col in 0..<cols { sum += Double(x[col]) }
                let mean = sum / Double(cols)
                var squares = 0.0
                for col in 0..<cols { squares += (Double(x[col]) - mean) * (Double(x[col]) - mean) }
                let rstd = 1 / (squares / Double(cols) + Double(epsilon)).squareRoot()
                for col in 0..<cols {
                    output[row * cols + col] = Float(
                        (Double(x[col]) - mean) * rstd * Double(gamma[col]) + Double(beta[col]))
                }
            }
        }
    }
}
