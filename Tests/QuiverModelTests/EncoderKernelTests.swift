import QuiverTensor
import Testing

@testable import QuiverModel

/// oneDNN's GELU and softmax primitives against QuiverTensor's Double references.
@Suite struct EncoderKernelTests {
    @Test func oneDNNGeluIsExactErf() throws {
        let kernels = DNNLKernels()
        let count = 18_001
        let input = (0..<count).map { Float($0) / 1_000 - 9 }  // −9 … 9
        let gelu = try #require(kernels.primitive(.geluErf(count: count)), "oneDNN GELU primitive")
        var actual = input
        actual.withUnsafeMutableBufferPointer { gelu.run($0.baseAddress!) }
        var expected = input
        expected.withUnsafeMutableBufferPointer {
            Activation.Reference.gelu($0.baseAddress!, into: $0.baseAddress!, count: count)
        }
        #expect(actual.count == expected.count)
        let error = zip(actual, expected).map { abs($0 - $1) / max(1, abs($1)) }.map { $0.isNaN ? .infinity : $0 }.max()!
        #expect(error < 1e-6, "max |fast − exact| / max(1, |exact|) = \(error)")
        // The tanh approximation would be off by ~1.5e-4 at x = 1.
        #expect(abs(actual[10_000] - 0.841_344_7) < 1e-6)
    }

    @Test(arguments: [(16, 16), (128, 97), (3, 1)])
    func oneDNNSoftmaxMatchesReference(rows: Int, cols: Int) throws {
        let kernels = DNNLKernels()
        let softmax = try #require(kernels.primitive(.softmax(rows: rows, cols: cols)))
        let input = (0..<(rows * cols)).map { Float(($0 * 7919) % 1_000) / 50 - 10 }
        var actual = input
        actual.withUnsafeMutableBufferPointer { softmax.run($0.baseAddress!) }
        var expected = input
        expected.withUnsafeMutableBufferPointer {
            Softmax.Reference.forward($0.baseAddress!, into: $0.baseAddress!, rows: rows, cols: cols)
        }
        #expect(maxAbsDifference(actual, expected) < 1e-6)
    }

    @Test func primitiveCacheIsBounded() {
        let kernels = DNNLKernels()
        for cols in 1...(DNNLKernels.capacity + 5) { _ = kernels.primitive(.softmax(rows: 2, cols: cols)) }
        #expect(kernels.cachedCount <= DNNLKernels.capacity)
    }
}
