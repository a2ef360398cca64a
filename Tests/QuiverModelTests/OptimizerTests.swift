import Foundation
import Testing

@testable import QuiverModel

/// AdamW, the learning-rate schedule and gradient clipping against hand-computed values and against PyTorch.
struct OptimizerTests {
    static func parameter(_ name: String, _ values: [Float], decays: Bool = true) -> Parameter {
        Parameter(name: name, shape: [values.count], value: FloatBuffer(values), decays: decays)
    }

    static func setGradient(_ parameter: Parameter, _ values: [Float]) {
        for (i, value) in values.enumerated() { parameter.gradient.pointer[i] = value }
    }

    static func expectClose(_ actual: [Float], _ expected: [Float], relative: Float = 2e-6, _ what: String) {
        #expect(actual.count == expected.count, "\(what): \(actual.count) values, expected \(expected.count)")
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            #expect(abs(a - e) <= relative * max(abs(e), 1e-3), "\(what)[\(i)]: \(a), expected \(e)")
        }
    }

    // MARK: - AdamW

    /// First step by hand: m = 0.1·g, v = 0.001·g², m̂ = g, v̂ = g², so θ moves by lr · g/(|g| + ε) ≈ lr · sign(g),
    /// after the decay θ·(1 − lr·λ).
    @Test func firstStepByHand() {
        let p = Self.parameter("w", [1, -2, 0.5])
        Self.setGradient(p, [0.5, -4, 0])
        let optimizer = AdamW(parameters: [p], configuration: .init(weightDecay: 0.1))
        optimizer.step(learningRate: 0.01)
        let decay: Float = 1 - 0.01 * 0.1
        let expected: [Float] = [
            1 * decay - 0.01 * 0.5 / (0.5 + 1e-8), -2 * decay + 0.01 * 4 / (4 + 1e-8), 0.5 * decay,
        ]
        Self.expectClose(p.value.array, expected, relative: 1e-6, "θ after step 1")
        #expect(optimizer.stepCount == 1)
    }

    /// Second step by hand for one element: g1 = 1, g2 = −1.
    @Test func secondStepByHand() {
        let p = Self.parameter("w", [0], decays: false)
        let optimizer = AdamW(parameters: [p], configuration: .init(weightDecay: 0.5))
        Self.setGradient(p, [1])
        optimizer.step(learningRate: 0.1)
        Self.setGradient(p, [-1])
        optimizer.step(learningRate: 0.1)
        // m = 0.9·0.1 − 0.1 = −0.01, v = 0.999·0.001 + 0.001 = 0.001999
        let m = -0.01, v = 0.001999
        let step2 = 0.1 / (1 - 0.81) * m / ((v / (1 - 0.998001)).squareRoot() + 1e-8)
        let expected = Float(-0.1 * 1 / (1 + 1e-8) - step2)
        Self.expectClose(p.value.array, [expected], relative: 1e-6, "θ after step 2 (no decay: decays is false)")
    }

    /// Three steps on two parameter groups (decayed and not) against `torch.optim.AdamW` 2.15.0, computed once:
    ///
    /// ```python
    /// p0 = torch.nn.Parameter(torch.tensor([0.5, -1.0, 2.0])); p1 = torch.nn.Parameter(torch.tensor([0.1, -0.2]))
    /// opt = torch.optim.AdamW([{"params": [p0], "weight_decay": 0.1}, {"params": [p1], "weight_decay": 0.0}],
    ///                         lr=1e-2, betas=(0.9, 0.999), eps=1e-8)
    /// for g0, g1 in grads: p0.grad = torch.tensor(g0); p1.grad = torch.tensor(g1); opt.step()
    /// ```
    @Test func matchesTorchAdamW() {
        let p0 = Self.parameter("p0", [0.5, -1.0, 2.0], decays: true)
        let p1 = Self.parameter("p1", [0.1, -0.2], decays: false)
        let optimizer = AdamW(parameters: [p0, p1], configuration: .init(weightDecay: 0.1))
        let gradients: [([Float], [Float])] = [([0.3, -0.6, 0.01], [1.5, -2.0]), ([-0.2, 0.4, 0.0], [0.5, 0.25]), ([0.1, 0.1, -0.3], [-1.0, 3.0])]
        let torch: [([Float], [Float])] = [
            ([0.489500016, -0.989000022, 1.98800004], [0.0900000036, -0.189999998]),
            ([0.487565309, -0.986565828, 1.97931159], [0.0812893659, -0.184274659]),
            ([0.484292656, -0.985350907, 1.98354459], [0.0790171102, -0.187112376]),
        ]
        for (step, ((g0, g1), (e0, e1))) in zip(gradients, torch).enumerated() {
            Self.setGradient(p0, g0)
            Self.setGradient(p1, g1)
            optimizer.step(learningRate: 1e-2)
            Self.expectClose(p0.value.array, e0, "p0 after step \(step + 1)")
            Self.expectClose(p1.value.array, e1, "p1 after step \(step + 1)")
        }
    }

    @Test func zeroGradientsClearsEveryGradient() {
        let p = Self.parameter("w", [1, 2])
        Self.setGradient(p, [3, 4])
        AdamW(parameters: [p]).zeroGradients()
        #expect(p.gradient.array == [0, 0])
    }

    // MARK: - Schedule

    /// `get_linear_schedule_with_warmup(optimizer, 3, 10)` of transformers 4.57.6 at lr 1e-3, steps 0…10.
    @Test func linearScheduleMatchesTransformers() {
        let schedule = LearningRateSchedule(peak: 1e-3, totalSteps: 10, warmupSteps: 3)
        let transformers: [Double] = [
            0.0, 0.0003333333333333333, 0.0006666666666666666, 0.001, 0.0008571428571428571, 0.0007142857142857143,
            0.0005714285714285714, 0.00042857142857142855, 0.0002857142857142857, 0.00014285714285714284, 0.0,
        ]
        for (step, expected) in transformers.enumerated() {
            #expect(abs(Double(schedule.rate(atStep: step)) - expected) <= 1e-10, "step \(step)")
        }
    }

    @Test func warmupStepsRoundUp() {
        #expect(LearningRateSchedule(peak: 1, totalSteps: 10, warmupRatio: 0.25).warmupSteps == 3)
        #expect(LearningRateSchedule(peak: 1, totalSteps: 300, warmupRatio: 0.1).warmupSteps == 30)
        #expect(LearningRateSchedule(peak: 1, totalSteps: 7, warmupRatio: 0).warmupSteps == 0)
        // Without warm-up the first step runs at the peak.
        #expect(LearningRateSchedule(peak: 2, totalSteps: 4, warmupRatio: 0).rate(atStep: 0) == 2)
        #expect(LearningRateSchedule(peak: 2, totalSteps: 4, warmupRatio: 0).rate(atStep: 2) == 1)
    }

    // MARK: - Clipping

    /// Norm √(3² + 4² + 12²) = 13 over two parameters; `torch.nn.utils.clip_grad_norm_([a, b], 1.0)` gives
    /// a.grad = [0.230769217, 0, 0.307692289], b.grad = [0.923076868, 0].
    @Test func clippingMatchesTorch() {
        let a = Self.parameter("a", [0, 0, 0]), b = Self.parameter("b", [0, 0])
        Self.setGradient(a, [3, 0, 4])
        Self.setGradient(b, [12, 0])
        let norm = GradientClipping.clip([a, b], maxNorm: 1)
        #expect(norm == 13)
        Self.expectClose(a.gradient.array, [0.230769217, 0, 0.307692289], "a.grad")
        Self.expectClose(b.gradient.array, [0.923076868, 0], "b.grad")
        #expect(abs(GradientClipping.globalNorm([a, b]) - 1) < 1e-6)
    }

    @Test func clippingLeavesSmallGradientsAlone() {
        let a = Self.parameter("a", [0, 0])
        Self.setGradient(a, [0.3, 0.4])
        #expect(abs(GradientClipping.clip([a], maxNorm: 1) - 0.5) < 1e-7)
        #expect(a.gradient.array == [0.3, 0.4])
        Self.setGradient(a, [30, 40])
        GradientClipping.clip([a], maxNorm: 0)  // off
        #expect(a.gradient.array == [30, 40])
    }
}
