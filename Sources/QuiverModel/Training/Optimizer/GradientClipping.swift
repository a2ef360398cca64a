/// Global-norm gradient clipping, as `torch.nn.utils.clip_grad_norm_`: when the Euclidean norm of all
/// gradients together exceeds `maxNorm`, every gradient is scaled by `maxNorm / (norm + 1e-6)`.
///
/// The norm is summed in Double, parameter by parameter and element by element in order, so it is the
/// same on every run.
public enum GradientClipping {
    /// The norm of all gradients together.
    public static func globalNorm(_ parameters: [Parameter]) -> Double {
        var sum = 0.0
        for parameter in parameters {
            let g = parameter.gradient.readPointer
            var partial = 0.0
            for i in 0..<parameter.gradient.count { partial += Double(g[i]) * Double(g[i]) }
            sum += partial
        }
        return sum.squareRoot()
    }

    /// Scales the gradients down to a global norm of `maxNorm` when they are above it; returns the norm
    /// before clipping. A `maxNorm` of 0 or less, or infinity, turns clipping off (the norm is still returned).
    @discardableResult
    public static func clip(_ parameters: [Parameter], maxNorm: Double) -> Double {
        let norm = globalNorm(parameters)
        guard maxNorm > 0, maxNorm.isFinite else { return norm }
        let coefficient = maxNorm / (norm + 1e-6)
        guard coefficient < 1 else { return norm }
        let scale = Float(coefficient)
        for parameter in parameters {
            let g = parameter.gradient.pointer
            for i in 0..<parameter.gradient.count { g[i] *= scale }
        }
        return norm
    }
}
