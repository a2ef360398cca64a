import Foundation
import QuiverTensor

/// The feed-forward non-linearity of an encoder layer, chosen by config.json's `hidden_act` with the names
/// `transformers` uses (`ACT2FN`).
public enum HiddenActivation: String, Sendable, CaseIterable {
    /// `gelu` (and `gelu_python`): the exact form `0.5·x·(1 + erf(x/√2))`, BERT's.
    case gelu
    /// `gelu_new`, `gelu_pytorch_tanh`: the tanh approximation `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
    case geluTanh
    /// `relu`.
    case relu
    /// `silu`, `swish`: `x · sigmoid(x)`.
    case silu

    /// The `hidden_act` names accepted, for error messages.
    public static let supportedNames = [
        "gelu", "gelu_python", "gelu_new", "gelu_pytorch_tanh", "relu", "silu", "swish",
    ]

    /// The activation config.json names.
    ///
    /// - Throws: `EncoderError.unsupportedActivation` for any other name (`gelu_fast`, `quick_gelu`, `mish`…).
    public init(configurationName name: String) throws(EncoderError) {
        switch name {
        case "gelu", "gelu_python": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh": self = .geluTanh
        case "relu": self = .relu
        case "silu", "swish": self = .silu
        default: throw .unsupportedActivation(name)
        }
    }

    /// Applies the function in place to `count` floats.
    public func apply(_ x: UnsafeMutablePointer<Float>, count: Int) {
        switch self {
        case .gelu: Activation.gelu(x, into: x, count: count)
        case .relu: Activation.relu(x, into: x, count: count)
        case .silu: Activation.silu(x, into: x, count: count)
        case .geluTanh: Self.geluTanh(x, count: count)
        }
    }

    /// The tanh approximation in three passes over a block that stays in cache: the tanh argument, tanh (the
    /// vectorised kernel), then `0.5·x·(1 + t)`. x is kept aside a block at a time.
    private static func geluTanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let block = 256
        let c = Float((2 / Double.pi).squareRoot())
        withUnsafeTemporaryAllocation(of: Float.self, capacity: block) { saved in
            var start = 0
            while start < count {
                let n = min(block, count - start)
                let values = x + start
                for i in 0..<n {
                    let v = values[i]
                    saved[i] = v
                    values[i] = c * (v + 0.044715 * v * v * v)
                }
                Activation.tanh(values, into: values, count: n)
                for i in 0..<n { values[i] = 0.5 * saved[i] * (1 + values[i]) }
                start += n
            }
        }
    }
}

extension HiddenActivation {
    /// `inputGradient += f'(input) · outputGradient` (training). The exact forms are the kernels' `Nonlinearity`
    /// derivatives; the tanh approximation is differentiated here, in Double.
    public func backward(
        input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>,
        count: Int
    ) {
        let exact: Nonlinearity
        switch self {
        case .gelu: exact = .gelu
        case .relu: exact = .relu
        case .silu: exact = .silu
        case .geluTanh:
            // d/dx 0.5·x·(1 + tanh(u)), u = c·(x + 0.044715·x³)
            let c = (2 / Double.pi).squareRoot()
            for i in 0..<count {
                let x = Double(input[i])
                let t = Foundation.tanh(c * (x + 0.044715 * x * x * x))
                let derivative = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
                inputGradient[i] += Float(derivative) * outputGradient[i]
            }
            return
        }
        // gelu, relu and silu read only the forward input
        exact.backward(input: input, output: input, outputGradient: outputGradient, inputGradient: inputGradient, count: count)
    }
}
