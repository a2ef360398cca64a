/// Linear warm-up from 0 to the peak rate, then linear decay to 0 at the last step: the
/// `get_linear_schedule_with_warmup` of `transformers`, which the `adapters` trainer uses.
///
/// Step `s` (0-based: the number of optimizer steps already taken) uses
/// `peak · s / warmup` while `s < warmup`, then `peak · (total − s) / (total − warmup)`.
/// As in `transformers`, with a warm-up the first step's rate is 0.
///
/// ```swift
/// let schedule = LearningRateSchedule(peak: 1e-4, totalSteps: 300, warmupRatio: 0.1)  // 30 warm-up steps
/// schedule.rate(atStep: 15)   // 5e-5
/// ```
public struct LearningRateSchedule: Sendable, Equatable {
    public var peak: Float
    public var totalSteps: Int
    public var warmupSteps: Int

    public init(peak: Float, totalSteps: Int, warmupSteps: Int) {
        precondition(totalSteps >= 0 && warmupSteps >= 0, "LearningRateSchedule: negative step count")
        self.peak = peak
        self.totalSteps = totalSteps
        self.warmupSteps = warmupSteps
    }

    /// Warm-up over `ceil(ratio · totalSteps)` steps (the rounding of `TrainingArguments.get_warmup_steps`).
    public init(peak: Float, totalSteps: Int, warmupRatio: Double) {
        precondition(warmupRatio >= 0 && warmupRatio <= 1, "LearningRateSchedule: warm-up ratio \(warmupRatio) outside [0, 1]")
        self.init(peak: peak, totalSteps: totalSteps, warmupSteps: Int((Double(totalSteps) * warmupRatio).rounded(.up)))
    }

    /// The rate of the optimizer step that follows `step` completed steps.
    public func rate(atStep step: Int) -> Float {
        if step < warmupSteps {
            return Float(Double(peak) * Double(step) / Double(max(1, warmupSteps)))
        }
        let remaining = Double(max(0, totalSteps - step)) / Double(max(1, totalSteps - warmupSteps))
        return Float(Double(peak) * remaining)
    }
}
