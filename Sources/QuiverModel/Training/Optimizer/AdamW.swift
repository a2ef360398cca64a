/// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"), step for step what
/// `torch.optim.AdamW` computes (no AMSGrad):
///
/// ```
/// θ ← θ · (1 − lr · λ)                  only parameters with `decays`
/// m ← m + (1 − β1) · (g − m)
/// v ← β2 · v + (1 − β2) · g²
/// θ ← θ − lr / (1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)
/// ```
///
/// The moments live here, one pair of buffers per parameter, in the order the parameters were given.
/// Every element is updated on its own, so the result does not depend on threads or vector width.
///
/// ```swift
/// let optimizer = AdamW(parameters: model.parameters, configuration: .init(weightDecay: 0.01))
/// _ = try model.trainStep(batch, dropout: true, random: &random)
/// optimizer.step(learningRate: 1e-4)
/// optimizer.zeroGradients()
/// ```
public final class AdamW {
    public struct Configuration: Sendable, Equatable {
        public var beta1: Float
        public var beta2: Float
        public var epsilon: Float
        /// λ, applied decoupled from the gradient to parameters whose `decays` is true.
        public var weightDecay: Float

        public init(beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8, weightDecay: Float = 0) {
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
            self.weightDecay = weightDecay
        }
    }

    public let parameters: [Parameter]
    public let configuration: Configuration
    /// Optimizer steps taken (t in the bias corrections).
    public private(set) var stepCount = 0
    /// m and v of each parameter.
    private let firstMoments: [FloatBuffer]
    private let secondMoments: [FloatBuffer]

    public init(parameters: [Parameter], configuration: Configuration = .init()) {
        self.parameters = parameters
        self.configuration = configuration
        firstMoments = parameters.map { FloatBuffer(count: $0.value.count) }
        secondMoments = parameters.map { FloatBuffer(count: $0.value.count) }
    }

    /// One update of every parameter from its current gradient. Gradients are left as they are.
    public func step(learningRate: Float) {
        stepCount += 1
        let c = configuration
        // Bias corrections in Double, as torch computes them in Python floats.
        let t = Double(stepCount)
        let stepSize = Float(Double(learningRate) / (1 - _pow(Double(c.beta1), t)))
        let correction2Root = Float((1 - _pow(Double(c.beta2), t)).squareRoot())
        let decayFactor = 1 - learningRate * c.weightDecay
        for (index, parameter) in parameters.enumerated() {
            Self.update(
                value: parameter.value.pointer, gradient: parameter.gradient.readPointer,
                m: firstMoments[index].pointer, v: secondMoments[index].pointer, count: parameter.value.count,
                decayFactor: parameter.decays ? decayFactor : 1, beta1: c.beta1, beta2: c.beta2,
                stepSize: stepSize, correction2Root: correction2Root, epsilon: c.epsilon)
        }
    }

    /// Sets every gradient to zero (`trainStep` adds to them).
    public func zeroGradients() {
        for parameter in parameters {
            parameter.gradient.pointer.update(repeating: 0, count: parameter.gradient.count)
        }
    }

    /// The elementwise update of one parameter; a loop the compiler vectorises.
    @inline(__always)
    static func update(
        value: UnsafeMutablePointer<Float>, gradient: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
        v: UnsafeMutablePointer<Float>, count: Int, decayFactor: Float, beta1: Float, beta2: Float, stepSize: Float,
        correction2Root: Float, epsilon: Float
    ) {
        let oneMinusBeta1 = 1 - beta1, oneMinusBeta2 = 1 - beta2
        for i in 0..<count {
            let g = gradient[i]
            let mi = m[i] + oneMinusBeta1 * (g - m[i])
            let vi = beta2 * v[i] + oneMinusBeta2 * (g * g)
            m[i] = mi
            v[i] = vi
            let denominator = vi.squareRoot() / correction2Root + epsilon
            value[i] = value[i] * decayFactor - stepSize * (mi / denominator)
        }
    }
}

#if canImport(Glibc)
import Glibc
private func _pow(_ x: Double, _ y: Double) -> Double { Glibc.pow(x, y) }
#else
import Foundation
private func _pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
#endif
