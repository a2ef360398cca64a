import Foundation

/// Softmax over the rows of a matrix, with an optional additive mask over columns (padded keys), forward and
/// backward.
public enum Softmax {
    /// The additive mask value of a padded key, as Hugging Face `transformers` builds it (`torch.finfo.min`):
    /// finite, so a row whose every key is padded gets the same uniform weights as in PyTorch.
    public static let maskedScore: Float = -Float.greatestFiniteMagnitude

    /// Fills `mask` with 0 for kept keys and `maskedScore` for padded ones, from an attention mask of 1s and 0s.
    public static func additiveMask<Index: BinaryInteger>(
        from attentionMask: UnsafePointer<Index>, into mask: UnsafeMutablePointer<Float>, count: Int
    ) {
        for i in 0..<count { mask[i] = attentionMask[i] != 0 ? 0 : maskedScore }
    }

    // MARK: - Forward

    /// `output[r, :] = softmax(input[r, :] + mask)`; `output` may be `input`.
    ///
    /// The row maximum is subtracted before exponentiation, so no finite input overflows. A row whose every
    /// entry is −∞ after masking (a mask of `-.infinity` over every key) has no defined softmax: it is written as
    /// zeros — attention to nothing — never NaN. With the finite `maskedScore`, a fully masked row is uniform,
    /// as in PyTorch.
    public static func forward(
        _ input: UnsafePointer<Float>,  // input is (rows, cols)
        into output: UnsafeMutablePointer<Float>,  // output is (rows, cols)
        rows: Int, cols: Int,
        mask: UnsafePointer<Float>? = nil  // mask is (cols), added to every row
    ) {
        for row in 0..<rows {
            let x = input + row * cols
            let y = output + row * cols
            if let mask {
                VectorMath.map(x, mask, into: y, count: cols) { value, m in value + m }
            } else if UnsafePointer(y) != x {
                y.update(from: x, count: cols)
            }
            normalizeRowInPlace(y, count: cols)
        }
    }

    @inlinable @inline(__always)
    static func normalizeRowInPlace(_ y: UnsafeMutablePointer<Float>, count: Int) {
        let maximum = VectorMath.maximum(y, count: count)
        guard maximum != -.infinity else {
            y.update(repeating: 0, count: count)
            return
        }
        let maximumVector = FloatVector(repeating: maximum)
        VectorMath.map(UnsafePointer(y), into: y, count: count) { value in VectorMath.exp(value - maximumVector) }
        let total = VectorMath.sum(y, count: count)  // ≥ 1: the maximum's own term is e^0
        let inverse = FloatVector(repeating: 1 / total)
        VectorMath.map(UnsafePointer(y), into: y, count: count) { value in value * inverse }
    }

    // MARK: - Backward

    /// `inputGradient[r, j] += y[r, j] · (dy[r, j] − Σ_k y[r, k]·dy[r, k])`, from the forward output y.
    /// (The mask is a constant: it has no gradient.)
    public static func backward(
        output: UnsafePointer<Float>,  // output is (rows, cols), the forward output
        outputGradient: UnsafePointer<Float>,  // outputGradient is (rows, cols)
        inputGradient: UnsafeMutablePointer<Float>,  // inputGradient is (rows, cols)
        rows: Int, cols: Int
    ) {
        for row in 0..<rows {
            let y = output + row * cols
            let dy = outputGradient + row * cols
            var dot: Float = 0
            for col in 0..<cols { dot += y[col] * dy[col] }
            let dotVector = FloatVector(repeating: dot)
            VectorMath.accumulate(y, dy, into: inputGradient + row * cols, count: cols) { yValue, gradient in
                yValue * (gradient - dotVector)
            }
        }
    }

    // MARK: - Reference

    /// A scalar loop in Double that the fast kernel is tested against (same masking rules).
    public enum Reference {
        public static func forward(
            _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
            mask: UnsafePointer<Float>? = nil
        ) {
            for row in 0..<rows {
                // The mask is added in Float, as in the kernel: score + maskedScore rounds to maskedScore.
                let scores = (0..<cols).map { Double(input[row * cols + $0] + (mask?[$0] ?? 0)) }
                let maximum = scores.max() ?? 0
                guard maximum != -.infinity else {
                    for col in 0..<cols { output[row * cols + col] = 0 }
                    continue
                }
                let exponentials = scores.map { Foundation.exp($0 - maximum) }
                let total = exponentials.reduce(0, +)
                for col in 0..<cols { output[row * cols + col] = Float(exponentials[col] / total) }
            }
        }
    }
}
