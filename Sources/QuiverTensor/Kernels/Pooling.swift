/// Reducing a sequence of token vectors to one vector per item, and picking the best class.
public enum Pooling {
    // MARK: - Mean pooling

    /// `output[b, :] = Σ_t mask[b, t]·hidden[b, t, :] / max(Σ_t mask[b, t], 1e-9)`, as sentence-transformers'
    /// mean pooling: padded tokens (mask 0) do not count, and an all-padding item gives zeros, not NaN.
    public static func mean(
        _ hidden: UnsafePointer<Float>,  // hidden is (batch, sequenceLength, dim)
        mask: UnsafePointer<Float>,  // mask is (batch, sequenceLength), 1 for tokens and 0 for padding
        batch: Int, sequenceLength: Int, dim: Int,
        into output: UnsafeMutablePointer<Float>  // output is (batch, dim)
    ) {
        for b in 0..<batch {
            let row = output + b * dim
            row.update(repeating: 0, count: dim)
            var weightSum: Float = 0
            for t in 0..<sequenceLength {
                let weight = mask[b * sequenceLength + t]
                guard weight != 0 else { continue }
                weightSum += weight
                let weights = FloatVector(repeating: weight)
                VectorMath.map(UnsafePointer(row), hidden + (b * sequenceLength + t) * dim, into: row, count: dim) {
                    sum, value in sum + weights * value
                }
            }
            Elementwise.scale(row, by: 1 / max(weightSum, 1e-9), count: dim)
        }
    }

    /// `output[b, :] = hidden[b, 0, :]`: the first ([CLS]) token of each item.
    public static func first(
        _ hidden: UnsafePointer<Float>,  // hidden is (batch, sequenceLength, dim)
        batch: Int, sequenceLength: Int, dim: Int,
        into output: UnsafeMutablePointer<Float>  // output is (batch, dim)
    ) {
        for b in 0..<batch { (output + b * dim).update(from: hidden + b * sequenceLength * dim, count: dim) }
    }

    // MARK: - Argmax

    /// The index of the largest of `count > 0` values; the first one on ties. NaNs are skipped (an all-NaN input
    /// gives 0).
    public static func argmax(_ values: UnsafePointer<Float>, count: Int) -> Int {
        precondition(count > 0, "argmax of an empty row")
        var best = 0
        var bestValue = -Float.infinity
        var seen = false
        for index in 0..<count where !values[index].isNaN && (!seen || values[index] > bestValue) {
            best = index
            bestValue = values[index]
            seen = true
        }
        return best
    }

    /// `output[r] = argmax(x[r, :])` for each row.
    public static func argmaxRows(
        _ x: UnsafePointer<Float>, rows: Int, cols: Int,  // x is (rows, cols)
        into output: UnsafeMutablePointer<Int>  // output is (rows)
    ) {
        for row in 0..<rows { output[row] = argmax(x + row * cols, count: cols) }
    }

    // MARK: - Reference

    /// A scalar loop in Double that the fast kernel is tested against.
    public enum Reference {
        public static func mean(
            _ hidden: UnsafePointer<Float>, mask: UnsafePointer<Float>, batch: Int, sequenceLength: Int, dim: Int,
            into output: UnsafeMutablePointer<Float>
        ) {
            for b in 0..<batch {
                var weightSum = 0.0
                for t in 0..<sequenceLength { weightSum += Double(mask[b * sequenceLength + t]) }
                for d in 0..<dim {
                    var sum = 0.0
                    for t in 0..<sequenceLength {
                        sum += Double(mask[b * sequenceLength + t]) * Double(hidden[(b * sequenceLength + t) * dim + d])
                    }
                    output[b * dim + d] = Float(sum / max(weightSum, 1e-9))
                }
            }
        }
    }
}
