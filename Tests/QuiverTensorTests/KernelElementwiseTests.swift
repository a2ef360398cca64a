import Testing

@testable import QuiverTensor

@Suite("Element-wise and Linear")
struct KernelElementwiseTests {
    @Test("bias, sums and scaling match the scalar references, tails included", arguments: [1, 7, 8, 9, 384, 389])
    func elementwise(_ cols: Int) {
        let rows = 3
        let x = randomFloats(rows * cols, seed: 81)
        let y = randomFloats(rows * cols, seed: 82)
        let bias = randomFloats(cols, seed: 83)

        var fast = x
        var reference = x
        fast.withUnsafeMutableBufferPointer { Elementwise.addBias($0.baseAddress!, bias: bias, rows: rows, cols: cols) }
        reference.withUnsafeMutableBufferPointer {
            Elementwise.Reference.addBias($0.baseAddress!, bias: bias, rows: rows, cols: cols)
        }
        expectClose(fast, reference, absolute: 0, "addBias cols \(cols)")

        let sum = filled(x.count) { Elementwise.add(x, y, into: $0, count: x.count) }
        let referenceSum = filled(x.count) { Elementwise.Reference.add(x, y, into: $0, count: x.count) }
        expectClose(sum, referenceSum, absolute: 0, "add cols \(cols)")

        var accumulated = y
        Elementwise.accumulate(x, into: &accumulated, count: x.count)
        expectClose(accumulated, referenceSum, absolute: 0, "accumulate cols \(cols)")

        var scaled = x
        Elementwise.scale(&scaled, by: 0.25, count: x.count)
        expectClose(scaled, x.map { $0 * 0.25 }, absolute: 0, "scale cols \(cols)")

        var weighted = y, referenceWeighted = y
        Elementwise.accumulate(x, scaledBy: -0.375, into: &weighted, count: x.count)
        Elementwise.Reference.accumulate(x, scaledBy: -0.375, into: &referenceWeighted, count: x.count)
        expectClose(weighted, referenceWeighted, absolute: 0, "scaled accumulate cols \(cols)")

        let dot = Elementwise.dot(x, y, count: x.count), referenceDot = Elementwise.Reference.dot(x, y, count: x.count)
        #expect(abs(dot - referenceDot) <= 1e-5 * max(1, abs(referenceDot)), "dot cols \(cols): \(dot) vs \(referenceDot)")

        var biasGradient = [Float](repeating: 1, count: cols)
        Elementwise.addBiasBackward(outputGradient: x, biasGradient: &biasGradient, rows: rows, cols: cols)
        let columnSums = (0..<cols).map { c in 1 + (0..<rows).reduce(Float(0)) { $0 + x[$1 * cols + c] } }
        expectClose(biasGradient, columnSums, absolute: 1e-6, "addBiasBackward cols \(cols)")
    }

    @Test("Linear forward is x·Wᵀ + b, and its backward matches finite differences")
    func linear() {
        let (rows, inFeatures, outFeatures) = (4, 6, 5)
        let x = randomFloats(rows * inFeatures, seed: 91)
        let weight = randomFloats(outFeatures * inFeatures, seed: 92)
        let bias = randomFloats(outFeatures, seed: 93)
        let weights = randomFloats(rows * outFeatures, seed: 94)
        func reference(_ x: [Float], _ weight: [Float], _ bias: [Float]) -> [Float] {
            (0..<(rows * outFeatures)).map { index in
                let (r, o) = index.quotientAndRemainder(dividingBy: outFeatures)
                let dot = (0..<inFeatures).reduce(0.0) {
                    $0 + Double(x[r * inFeatures + $1]) * Double(weight[o * inFeatures + $1])
                }
                return Float(dot + Double(bias[o]))
            }
        }
        let output = filled(rows * outFeatures) {
            Linear.forward(
                x, weight: weight, bias: bias, into: $0, rows: rows, inFeatures: inFeatures,
                outFeatures: outFeatures)
        }
        expectClose(output, reference(x, weight, bias), absolute: 1e-6, relative: 1e-6, "linear forward")

        var dx = [Float](repeating: 0, count: x.count)
        var dw = [Float](repeating: 0, count: weight.count)
        var db = [Float](repeating: 0, count: bias.count)
        Linear.backward(
            input: x, weight: weight, outputGradient: weights, inputGradient: &dx, weightGradient: &dw,
            biasGradient: &db, rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
        expectClose(
            dx, numericalGradient(of: { reference($0, weight, bias) }, at: x, weights: weights),
            absolute: 1e-3, relative: 1e-3, "dx")
        expectClose(
            dw, numericalGradient(of: { reference(x, $0, bias) }, at: weight, weights: weights),
            absolute: 1e-3, relative: 1e-3, "dW")
        expectClose(
            db, numericalGradient(of: { reference(x, weight, $0) }, at: bias, weights: weights),
            absolute: 1e-3, relative: 1e-3, "db")
    }
}
