import Testing

@testable import QuiverTensor

@Suite("Softmax")
struct KernelSoftmaxTests {
    func softmax(_ x: [Float], rows: Int, cols: Int, mask: [Float]?) -> [Float] {
        filled(x.count) { out in
            if let mask {
                Softmax.forward(x, into: out, rows: rows, cols: cols, mask: mask)
            } else {
                Softmax.forward(x, into: out, rows: rows, cols: cols)
            }
        }
    }

    func reference(_ x: [Float], rows: Int, cols: Int, mask: [Float]?) -> [Float] {
        filled(x.count) { out in
            if let mask {
                Softmax.Reference.forward(x, into: out, rows: rows, cols: cols, mask: mask)
            } else {
                Softmax.Reference.forward(x, into: out, rows: rows, cols: cols)
            }
        }
    }

    @Test("matches the reference, with and without a padding mask", arguments: [1, 7, 8, 13, 128])
    func forward(_ cols: Int) {
        let rows = 5
        let x = randomFloats(rows * cols, in: -20...20, seed: UInt64(cols))
        let mask = (0..<cols).map { $0 % 3 == 2 ? Softmax.maskedScore : 0 }
        for mask in [nil, mask] {
            expectClose(
                softmax(x, rows: rows, cols: cols, mask: mask), reference(x, rows: rows, cols: cols, mask: mask),
                absolute: 1e-7, relative: 1e-6, "softmax cols \(cols) masked \(mask != nil)")
        }
        // Masked keys get exactly zero weight; rows sum to 1.
        let masked = softmax(x, rows: rows, cols: cols, mask: mask)
        for row in 0..<rows {
            let weights = masked[(row * cols)..<((row + 1) * cols)]
            #expect(abs(weights.reduce(0, +) - 1) < 1e-5)
            if cols > 2 { #expect(weights.enumerated().allSatisfy { $0.offset % 3 != 2 || $0.element == 0 }) }
        }
    }

    @Test("huge scores do not overflow")
    func stability() {
        let x: [Float] = [1e30, 1e30 - 1e24, -1e30, 88, 89, 90]
        let y = softmax(x, rows: 2, cols: 3, mask: nil)
        expectClose(y, reference(x, rows: 2, cols: 3, mask: nil), absolute: 1e-6, "huge scores")
        #expect(y.allSatisfy { $0.isFinite })
    }

    @Test("a fully masked row: uniform with the finite mask (as PyTorch), zeros with −∞, never NaN")
    func fullyMasked() {
        let x: [Float] = [0.3, -2, 5, 1]
        let finite = [Float](repeating: Softmax.maskedScore, count: 4)
        expectClose(softmax(x, rows: 1, cols: 4, mask: finite), [0.25, 0.25, 0.25, 0.25], absolute: 1e-7, "finite")
        let infinite = [Float](repeating: -.infinity, count: 4)
        expectClose(softmax(x, rows: 1, cols: 4, mask: infinite), [0, 0, 0, 0], absolute: 0, "−∞")
        expectClose(reference(x, rows: 1, cols: 4, mask: infinite), [0, 0, 0, 0], absolute: 0, "reference −∞")
    }

    @Test("additive mask from an attention mask")
    func additiveMask() {
        let attention: [Int32] = [1, 1, 0]
        let mask = filled(3) { Softmax.additiveMask(from: attention, into: $0, count: 3) }
        #expect(mask == [0, 0, Softmax.maskedScore])
    }

    @Test("backward matches finite differences")
    func backward() {
        let (rows, cols) = (3, 9)
        let x = randomFloats(rows * cols, in: -3...3, seed: 31)
        let weights = randomFloats(rows * cols, seed: 32)
        let y = softmax(x, rows: rows, cols: cols, mask: nil)
        var gradient = [Float](repeating: 0, count: x.count)
        Softmax.backward(output: y, outputGradient: weights, inputGradient: &gradient, rows: rows, cols: cols)
        let numeric = numericalGradient(
            of: { self.reference($0, rows: rows, cols: cols, mask: nil) }, at: x,
            weights: weights, step: 1e-2)
        expectClose(gradient, numeric, absolute: 1e-3, relative: 2e-3, "softmax backward")
    }
}
