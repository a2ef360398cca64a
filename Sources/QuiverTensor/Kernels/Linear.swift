/// A fully connected layer with a PyTorch-layout weight, `y = x · Wᵀ + b`, forward and backward: the product on
/// `Gemm`, the bias with `Elementwise`.
public enum Linear {
    /// `output = input · weightᵀ + bias`.
    public static func forward(
        _ input: UnsafePointer<Float>,  // input is (rows, inFeatures)
        weight: UnsafePointer<Float>,  // weight is (outFeatures, inFeatures), as nn.Linear stores it
        bias: UnsafePointer<Float>?,  // bias is (outFeatures)
        into output: UnsafeMutablePointer<Float>,  // output is (rows, outFeatures)
        rows: Int, inFeatures: Int, outFeatures: Int,
        threading: Gemm.Threading = Gemm.defaultThreading
    ) {
        Gemm.sgemm(
            .normal, .transposed, m: rows, n: outFeatures, k: inFeatures, a: input, lda: inFeatures,
            b: weight, ldb: inFeatures, c: output, ldc: outFeatures, threading: threading)
        if let bias { Elementwise.addBias(output, bias: bias, rows: rows, cols: outFeatures) }
    }

    /// Gradients of `forward`, accumulated: `inputGradient += dy · W`, `weightGradient += dyᵀ · x`,
    /// `biasGradient += Σ_rows dy`. Pass nil for a gradient that is not needed (a frozen weight, the first layer's
    /// input).
    public static func backward(
        input: UnsafePointer<Float>,  // input is (rows, inFeatures), the forward input
        weight: UnsafePointer<Float>,  // weight is (outFeatures, inFeatures)
        outputGradient: UnsafePointer<Float>,  // outputGradient is (rows, outFeatures)
        inputGradient: UnsafeMutablePointer<Float>?,  // inputGradient is (rows, inFeatures)
        weightGradient: UnsafeMutablePointer<Float>?,  // weightGradient is (outFeatures, inFeatures)
        biasGradient: UnsafeMutablePointer<Float>?,  // biasGradient is (outFeatures)
        rows: Int, inFeatures: Int, outFeatures: Int,
        threading: Gemm.Threading = Gemm.defaultThreading
    ) {
        if let inputGradient {
            // dx (rows, in) += dy (rows, out) · W (out, in)
            Gemm.sgemm(
                .normal, .normal, m: rows, n: inFeatures, k: outFeatures, a: outputGradient, lda: outFeatures,
                b: weight, ldb: inFeatures, beta: 1, c: inputGradient, ldc: inFeatures, threading: threading)
        }
        if let weightGradient {
            // dW (out, in) += dyᵀ (out, rows) · x (rows, in)
            Gemm.sgemm(
                .transposed, .normal, m: outFeatures, n: inFeatures, k: rows, a: outputGradient, lda: outFeatures,
                b: input, ldb: inFeatures, beta: 1, c: weightGradient, ldc: inFeatures, threading: threading)
        }
        if let biasGradient {
            Elementwise.addBiasBackward(
                outputGradient: outputGradient, biasGradient: biasGradient, rows: rows, cols: outFeatures)
        }
    }
}
