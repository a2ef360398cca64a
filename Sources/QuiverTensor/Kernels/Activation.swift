import Foundation

/// Element-wise non-linearities over `count` contiguous floats, forward and backward.
///
/// Forward kernels read `input` and write `output`; the two may be the same buffer (in place). Backward kernels
/// *accumulate* into the input gradient (`inputGradient += f'(input) · outputGradient`), as every backward kernel
/// here does, so that a gradient reaching a tensor by two paths adds up; zero it before the first one.
///
/// GELU is the exact erf form used by BERT, `0.5·x·(1 + erf(x/√2))`, never the tanh approximation.
public enum Activation {
    // MARK: - GELU

    /// GELU, `0.5·x·(1 + erf(x/√2))`, with a vectorised erf (relative error < 1e-6, see docs/kernels.md).
    public static func gelu(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int) {
        VectorMath.map(input, into: output, count: count) { x in
            0.5 * x * VectorMath.onePlusErf(x * FloatVector(repeating: Float(0.5.squareRoot())))
        }
    }

    /// `inputGradient += gelu'(input) · outputGradient`, gelu'(x) = ½(1 + erf(x/√2)) + x·φ(x), φ the standard
    /// normal density.
    public static func geluBackward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, count: Int
    ) {
        VectorMath.accumulate(input, outputGradient, into: inputGradient, count: count) { x, gradient in
            let cdf = 0.5 * VectorMath.onePlusErf(x * FloatVector(repeating: Float(0.5.squareRoot())))
            let density = FloatVector(repeating: Float(1 / (2 * Double.pi).squareRoot())) * VectorMath.exp(-0.5 * x * x)
            return (cdf + x * density) * gradient
        }
    }

    // MARK: - ReLU

    /// ReLU, `max(0, x)` (NaN stays NaN).
    public static func relu(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int) {
        // A plain loop: LLVM vectorises it to a compare and an and-not, faster than the SIMD-typed version.
        for i in 0..<count { output[i] = input[i] < 0 ? 0 : input[i] }
    }

    /// `inputGradient += (input > 0 ? 1 : 0) · outputGradient`.
    public static func reluBackward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, count: Int
    ) {
        VectorMath.accumulate(input, outputGradient, into: inputGradient, count: count) { x, gradient in
            FloatVector.zero.replacing(with: gradient, where: x .> 0)
        }
    }

    // MARK: - SiLU (swish)

    /// SiLU, also called swish: `x · sigmoid(x)`.
    public static func silu(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int) {
        VectorMath.map(input, into: output, count: count) { x in x * VectorMath.sigmoid(x) }
    }

    /// `inputGradient += silu'(input) · outputGradient`, silu'(x) = s(x)·(1 + x·(1 − s(x))), s the sigmoid.
    public static func siluBackward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, count: Int
    ) {
        VectorMath.accumulate(input, outputGradient, into: inputGradient, count: count) { x, gradient in
            let s = VectorMath.sigmoid(x)
            return s * (1 + x * (1 - s)) * gradient
        }
    }

    // MARK: - tanh

    /// tanh.
    public static func tanh(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int) {
        VectorMath.map(input, into: output, count: count) { x in VectorMath.tanh(x) }
    }

    /// `inputGradient += (1 − output²) · outputGradient`, from the forward *output* (as llm.c does), which the
    /// forward pass keeps anyway.
    public static func tanhBackward(
        output: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, count: Int
    ) {
        VectorMath.accumulate(output, outputGradient, into: inputGradient, count: count) { y, gradient in
            (1 - y * y) * gradient
        }
    }

    // MARK: - Sigmoid

    /// The logistic sigmoid `1 / (1 + e^−x)`.
    public static func sigmoid(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int) {
        VectorMath.map(input, into: output, count: count) { x in VectorMath.sigmoid(x) }
    }

    /// `inputGradient += output·(1 − output) · outputGradient`, from the forward output.
    public static func sigmoidBackward(
        output: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, count: Int
    ) {
        VectorMath.accumulate(output, outputGradient, into: inputGradient, count: count) { y, gradient in
            y * (1 - y) * gradient
        }
    }

    // MARK: - Reference

    /// Scalar loops in Double with Foundation's functions, that the fast kernels are tested against.
    public enum Reference {
        public static func gelu(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int) {
            for i in 0..<count {
                let x = Double(input[i])
                output[i] = Float(0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot())))
            }
        }

        public static func geluBackward(
            input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
            inputGradient: UnsafeMutablePointer<Float>, count: Int
        ) {
            for i in 0..<count {
                let x = Double(input[i])
                let cdf = 0.5 * (1 + Foundation.erf(x / 2.0.squareRoot()))
                let density = Foundation.exp(-0.5 * x * x) / (2 * Double.pi).squareRoot()
                inputGradient[i] += Float((cdf + x * density) * Double(outputGradient[i]))
            }
        }

        public static func relu(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int) {
            for i in 0..<count { output[i] = input[i] > 0 ? input[i] : (input[i].isNaN ? input[i] : 0) }
        }

        public static func silu(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int) {
            for i in 0..<count {
                let x = Double(input[i])
                output[i] = Float(x / (1 + Foundation.exp(-x)))
            }
        }

        public static func siluBackward(
            input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
            inputGradient: UnsafeMutablePointer<Float>, count: Int
        ) {
            for i in 0..<count {
                let x = Double(input[i])
                let s = 1 / (1 + Foundation.exp(-x))
                inputGradient[i] += Float(s * (1 + x * (1 - s)) * Double(outputGradient[i]))
            }
        }

        public static func tanh(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int) {
            for i in 0..<count { output[i] = Float(Foundation.tanh(Double(input[i]))) }
        }

        public static func sigmoid(
            _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int
        ) {
            for i in 0..<count { output[i] = Float(1 / (1 + Foundation.exp(-Double(input[i])))) }
        }
    }
}

// MARK: - Non-linearity by name

/// A non-linearity chosen at run time, by the names adapter configurations use (`"relu"`, `"gelu"`, `"swish"` or
/// `"silu"`, `"tanh"`, `"sigmoid"`).
public enum Nonlinearity: String, Sendable, Hashable, CaseIterable, Codable {
    case relu
    case gelu
    case silu
    case tanh
    case sigmoid

    /// Parses a configuration name; `"swish"` is SiLU. Nil for anything else (notably `"gelu_new"`, the tanh
    /// approximation, which this library does not implement).
    public init?(configurationName name: String) {
        switch name.lowercased() {
        case "swish": self = .silu
        default: self.init(rawValue: name.lowercased())
        }
    }

    /// Applies the function element-wise; `output` may be `input`.
    public func apply(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .relu: Activation.relu(input, into: output, count: count)
        case .gelu: Activation.gelu(input, into: output, count: count)
        case .silu: Activation.silu(input, into: output, count: count)
        case .tanh: Activation.tanh(input, into: output, count: count)
        case .sigmoid: Activation.sigmoid(input, into: output, count: count)
        }
    }

    /// `inputGradient += f'(input) · outputGradient`; `input` and `output` are the forward pass's buffers.
    public func backward(
        input: UnsafePointer<Float>, output: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, count: Int
    ) {
        switch self {
        case .relu:
            Activation.reluBackward(
                input: input, outputGradient: outputGradient, inputGradient: inputGradient, count: count)
        case .gelu:
            Activation.geluBackward(
                input: input, outputGradient: outputGradient, inputGradient: inputGradient, count: count)
        case .silu:
            Activation.siluBackward(
                input: input, outputGradient: outputGradient, inputGradient: inputGradient, count: count)
        case .tanh:
            Activation.tanhBackward(
                output: output, outputGradient: outputGradient, inputGradient: inputGradient, count: count)
        case .sigmoid:
            Activation.sigmoidBackward(
                output: output, outputGradient: outputGradient, inputGradient: inputGradient, count: count)
        }
    }
}
