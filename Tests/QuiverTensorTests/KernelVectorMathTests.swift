import Foundation
import Testing

@testable import QuiverTensor

/// Accuracy of the vectorised elementary functions against Foundation in Double, on dense grids.
@Suite("Vector math")
struct KernelVectorMathTests {
    /// Evaluates `vector` on `inputs` eight at a time.
    func evaluate(_ inputs: [Float], _ vector: (FloatVector) -> FloatVector) -> [Float] {
        filled(inputs.count) { out in
            withPointers(inputs) { VectorMath.map($0, into: out, count: inputs.count, vector) }
        }
    }

    /// Max relative error over the grid, with the input where it happens (NaN, and a missing value, count as
    /// infinitely wrong).
    func maxRelativeError(_ inputs: [Float], _ actual: [Float], exact: (Double) -> Double) -> (Double, Float) {
        guard inputs.count == actual.count else { return (.infinity, .nan) }
        var worst = (0.0, Float(0))
        for (x, y) in zip(inputs, actual) {
            let reference = exact(Double(x))
            guard reference != 0, reference.isNormal, abs(reference) > Double(Float.leastNormalMagnitude) else {
                continue
            }
            let error = abs(Double(y) - reference) / abs(reference)
            if !(error <= worst.0) { worst = (error.isNaN ? .infinity : error, x) }
        }
        return worst
    }

    static let grid: [Float] =
        stride(from: -9.0, through: 9.0, by: 1.0 / 2048).map { Float($0) }
        + [0, -0, 1e-30, -1e-30, 1e-6, -1e-6, 0.749_999_9, 0.75, 0.750_000_1, -0.75]

    @Test("erf has relative error below 1e-6")
    func erf() {
        let actual = evaluate(Self.grid, VectorMath.erf)
        let (error, x) = maxRelativeError(Self.grid, actual, exact: Foundation.erf)
        #expect(error < 1e-6, "max relative error \(error) at x = \(x)")
        #expect(evaluate([.infinity, -.infinity, 30, -30], VectorMath.erf) == [1, -1, 1, -1])
    }

    @Test("1 + erf(z) keeps its relative accuracy on the negative tail (GELU of very negative inputs)")
    func onePlusErf() {
        let inputs = Self.grid.filter { $0 >= -4 }
        let actual = evaluate(inputs, VectorMath.onePlusErf)
        let (error, x) = maxRelativeError(inputs, actual) { 1 + Foundation.erf($0) == 0 ? 0 : Foundation.erfc(-$0) }
        #expect(error < 2e-6, "max relative error \(error) at z = \(x)")
    }

    @Test("exp has relative error below 5e-7, and underflows to exactly 0")
    func exp() {
        let inputs = stride(from: -87.0, through: 88.0, by: 1.0 / 64).map { Float($0) }
        let (error, x) = maxRelativeError(inputs, evaluate(inputs, VectorMath.exp), exact: Foundation.exp)
        #expect(error < 5e-7, "max relative error \(error) at x = \(x)")
        #expect(evaluate([-.infinity, -100, 0], VectorMath.exp) == [0, 0, 1])
        #expect(evaluate([.infinity, 1000], VectorMath.exp).allSatisfy { $0.isFinite && $0 > 1e38 })
    }

    @Test("tanh is within 2e-7 absolute and 1e-6 relative")
    func tanh() {
        let actual = evaluate(Self.grid, VectorMath.tanh)
        let (error, x) = maxRelativeError(Self.grid, actual, exact: Foundation.tanh)
        #expect(error < 1e-6, "max relative error \(error) at x = \(x)")
        #expect(evaluate([.infinity, -.infinity, 50, -50], VectorMath.tanh) == [1, -1, 1, -1])
    }

    @Test("sigmoid has relative error below 1e-6")
    func sigmoid() {
        let inputs = Self.grid.map { $0 * 8 }
        let (error, x) = maxRelativeError(inputs, evaluate(inputs, VectorMath.sigmoid)) {
            1 / (1 + Foundation.exp(-$0))
        }
        #expect(error < 1e-6, "max relative error \(error) at x = \(x)")
    }
}
