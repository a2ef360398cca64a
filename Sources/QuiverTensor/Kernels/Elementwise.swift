/// Additions over contiguous float buffers: bias broadcast over rows, residual connections, scaling.
///
/// Buffers are row-major; `// x is (rows, cols)` means `rows · cols` contiguous floats, row after row.
public enum Elementwise {
    // MARK: - Bias

    /// `x[r, c] += bias[c]` for every row: the bias of a Linear layer after its product.
    public static func addBias(
        _ x: UnsafeMutablePointer<Float>,  // x is (rows, cols)
        bias: UnsafePointer<Float>,  // bias is (cols)
        rows: Int, cols: Int
    ) {
        for row in 0..<rows {
            let line = x + row * cols
            VectorMath.map(UnsafePointer(line), bias, into: line, count: cols) { value, b in value + b }
        }
    }

    /// `biasGradient[c] += Σ_r outputGradient[r, c]`: the bias gradient of a Linear layer.
    public static func addBiasBackward(
        outputGradient: UnsafePointer<Float>,  // outputGradient is (rows, cols)
        biasGradient: UnsafeMutablePointer<Float>,  // biasGradient is (cols)
        rows: Int, cols: Int
    ) {
        for row in 0..<rows {
            VectorMath.map(UnsafePointer(biasGradient), outputGradient + row * cols, into: biasGradient, count: cols) {
                sum, gradient in sum + gradient
            }
        }
    }

    // MARK: - Sums

    /// `output = first + second` over `count` floats: a residual connection. `output` may be either input.
    public static func add(
        _ first: UnsafePointer<Float>, _ second: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        count: Int
    ) {
        VectorMath.map(first, second, into: output, count: count) { a, b in a + b }
    }

    /// `accumulator += addend` over `count` floats (gradient accumulation, a residual added in place).
    public static func accumulate(
        _ addend: UnsafePointer<Float>, into accumulator: UnsafeMutablePointer<Float>, count: Int
    ) {
        VectorMath.map(UnsafePointer(accumulator), addend, into: accumulator, count: count) { a, b in a + b }
    }

    /// `accumulator += factor · addend` over `count` floats (a weighted sum built one term at a time).
    public static func accumulate(
        _ addend: UnsafePointer<Float>, scaledBy factor: Float, into accumulator: UnsafeMutablePointer<Float>,
        count: Int
    ) {
        let factors = FloatVector(repeating: factor)
        VectorMath.map(UnsafePointer(accumulator), addend, into: accumulator, count: count) { a, b in a + factors * b }
    }

    /// `Σ first[i]·second[i]` over `count` floats, summed in eight lanes then across them.
    public static func dot(_ first: UnsafePointer<Float>, _ second: UnsafePointer<Float>, count: Int) -> Float {
        var sums = FloatVector(repeating: 0)
        var index = 0
        while index + FloatVector.scalarCount <= count {
            sums += VectorMath.load(first + index) * VectorMath.load(second + index)
            index += FloatVector.scalarCount
        }
        if index < count {
            let tail = count - index
            sums += VectorMath.loadPartial(first + index, count: tail) * VectorMath.loadPartial(second + index, count: tail)
        }
        return sums.sum()
    }

    /// `x *= factor` over `count` floats (adapter `scaling`, LoRA's alpha/r).
    public static func scale(_ x: UnsafeMutablePointer<Float>, by factor: Float, count: Int) {
        let factors = FloatVector(repeating: factor)
        VectorMath.map(UnsafePointer(x), into: x, count: count) { value in value * factors }
    }

    // MARK: - Reference

    /// Scalar loops that the fast kernels are tested against.
    public enum Reference {
        public static func dot(_ first: UnsafePointer<Float>, _ second: UnsafePointer<Float>, count: Int) -> Float {
            var sum: Float = 0
            for index in 0..<count { sum += first[index] * second[index] }
            return sum
        }

        public static func accumulate(
            _ addend: UnsafePointer<Float>, scaledBy factor: Float, into accumulator: UnsafeMutablePointer<Float>,
            count: Int
        ) {
            for index in 0..<count { accumulator[index] += factor * addend[index] }
        }

        public static func addBias(_ x: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, rows: Int, cols: Int) {
            for row in 0..<rows {
                for col in 0..<cols { x[row * cols + col] += bias[col] }
            }
        }

        public static func add(
            _ first: UnsafePointer<Float>, _ second: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
            count: Int
        ) {
            for i in 0..<count { output[i] = first[i] + second[i] }
        }
    }
}
