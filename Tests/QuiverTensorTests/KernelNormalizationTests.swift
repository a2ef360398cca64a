import Testing

@testable import QuiverTensor

@Suite("Layer norm")
struct KernelNormalizationTests {
    func layerNorm(_ x: [Float], gamma: [Float], beta: [Float], rows: Int, cols: Int, epsilon: Float) -> [Float] {
        filled(x.count) { out in
            Normalization.layerNorm(x, into: out, gamma: gamma, beta: beta, rows: rows, cols: cols, epsilon: epsilon)
        }
    }

    func reference(_ x: [Float], gamma: [Float], beta: [Float], rows: Int, cols: Int, epsilon: Float) -> [Float] {
        filled(x.count) { out in
            Normalization.Reference.layerNorm(
                x, into: out, gamma: gamma, beta: beta, rows: rows, cols: cols,
                epsilon: epsilon)
        }
    }

    @Test(
        "matches the Double reference within 1e-5, for odd widths, large means and tiny variances",
        arguments: [(3, 384, Float(0), Float(1)), (5, 37, 0, 1), (4, 768, 1_000, 1), (2, 9, 0, 1e-4), (2, 8, 50, 0.01)])
    func forward(_ rows: Int, _ cols: Int, _ offset: Float, _ spread: Float) {
        let x = randomFloats(rows * cols, seed: UInt64(cols)).map { offset + spread * $0 }
        let gamma = randomFloats(cols, in: 0.5...1.5, seed: 2)
        let beta = randomFloats(cols, seed: 3)
        for epsilon: Float in [1e-12, 1e-5] {
            let expected = reference(x, gamma: gamma, beta: beta, rows: rows, cols: cols, epsilon: epsilon)
            let actual = layerNorm(x, gamma: gamma, beta: beta, rows: rows, cols: cols, epsilon: epsilon)
            expectClose(
                actual, expected, absolute: 1e-5, relative: 1e-5,
                "layerNorm rows \(rows) cols \(cols) offset \(offset) spread \(spread) eps \(epsilon)")
        }
    }

    @Test("works in place and stores mean and 1/std")
    func inPlaceAndStatistics() {
        let (rows, cols) = (2, 10)
        let x = (0..<(rows * cols)).map { Float($0) }
        let gamma = [Float](repeating: 1, count: cols)
        let beta = [Float](repeating: 0, count: cols)
        var inPlace = x
        var mean = [Float](repeating: 0, count: rows)
        var rstd = [Float](repeating: 0, count: rows)
        inPlace.withUnsafeMutableBufferPointer { buffer in
            Normalization.layerNorm(
                buffer.baseAddress!, into: buffer.baseAddress!, gamma: gamma, beta: beta,
                rows: rows, cols: cols, epsilon: 1e-5, mean: &mean, reciprocalStdDev: &rstd)
        }
        expectClose(
            inPlace, reference(x, gamma: gamma, beta: beta, rows: rows, cols: cols, epsilon: 1e-5),
            absolute: 1e-6, "in place")
        expectClose(mean, [4.5, 14.5], absolute: 1e-6, "mean")
        expectClose(rstd, [Float](repeating: Float(1 / (8.25 + 1e-5).squareRoot()), count: 2), absolute: 1e-6, "rstd")
    }

    @Test("backward matches finite differences for input, gamma and beta")
    func backward() {
        let (rows, cols) = (3, 11)
        let x = randomFloats(rows * cols, in: -2...2, seed: 21)
        let gamma = randomFloats(cols, in: 0.5...1.5, seed: 22)
        let beta = randomFloats(cols, seed: 23)
        let weights = randomFloats(rows * cols, seed: 24)
        let epsilon: Float = 1e-5
        var mean = [Float](repeating: 0, count: rows)
        var rstd = [Float](repeating: 0, count: rows)
        _ = filled(x.count) { out in
            Normalization.layerNorm(
                x, into: out, gamma: gamma, beta: beta, rows: rows, cols: cols, epsilon: epsilon,
                mean: &mean, reciprocalStdDev: &rstd)
        }
        var inputGradient = [Float](repeating: 0, count: x.count)
        var gammaGradient = [Float](repeating: 0, count: cols)
        var betaGradient = [Float](repeating: 0, count: cols)
        Normalization.layerNormBackward(
            input: x, outputGradient: weights, gamma: gamma, mean: mean, reciprocalStdDev: rstd,
            inputGradient: &inputGradient, gammaGradient: &gammaGradient, betaGradient: &betaGradient,
            rows: rows, cols: cols)
        let numericInput = numericalGradient(
            of: { self.reference($0, gamma: gamma, beta: beta, rows: rows, cols: cols, epsilon: epsilon) },
            at: x, weights: weights, step: 1e-2)
        let numericGamma = numericalGradient(
            of: { self.reference(x, gamma: $0, beta: beta, rows: rows, cols: cols, epsilon: epsilon) },
            at: gamma, weights: weights, step: 1e-2)
        let numericBeta = numericalGradient(
            of: { self.reference(x, gamma: gamma, beta: $0, rows: rows, cols: cols, epsilon: epsilon) },
            at: beta, weights: weights, step: 1e-2)
        expectClose(inputGradient, numericInput, absolute: 2e-3, relative: 2e-3, "dx")
        expectClose(gammaGradient, numericGamma, absolute: 2e-3, relative: 2e-3, "dgamma")
        expectClose(betaGradient, numericBeta, absolute: 2e-3, relative: 2e-3, "dbeta")
        // A frozen LayerNorm: no gamma and beta gradients, the same input gradient.
        var frozenInputGradient = [Float](repeating: 0, count: x.count)
        Normalization.layerNormBackward(
            input: x, outputGradient: weights, gamma: gamma, mean: mean, reciprocalStdDev: rstd,
            inputGradient: &frozenInputGradient, gammaGradient: nil, betaGradient: nil, rows: rows, cols: cols)
        #expect(frozenInputGradient == inputGradient)
    }
}
