import Testing

@testable import QuiverTensor

@Suite("Gemm")
struct KernelGemmTests {
    /// Runs both implementations on the same operands and compares them.
    func check(
        _ transA: Gemm.Transpose, _ transB: Gemm.Transpose, m: Int, n: Int, k: Int, padding: Int,
        alpha: Float, beta: Float, threading: Gemm.Threading, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        // Stored shapes: A is (m, k) or (k, m); B is (k, n) or (n, k); each row padded by `padding` floats.
        let (aRows, aCols) = transA == .normal ? (m, k) : (k, m)
        let (bRows, bCols) = transB == .normal ? (k, n) : (n, k)
        let lda = aCols + padding
        let ldb = bCols + padding
        let ldc = n + padding
        let a = randomFloats(max(1, aRows * lda), seed: UInt64(m * 31 + k))
        let b = randomFloats(max(1, bRows * ldb), seed: UInt64(n * 17 + k))
        let c = randomFloats(max(1, m * ldc), seed: 99)
        let expected = filled(c.count) { out in
            out.update(from: c, count: c.count)
            withPointers(a) { a in
                withPointers(b) { b in
                    Gemm.Reference.sgemm(
                        transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                        beta: beta, c: out, ldc: ldc)
                }
            }
        }
        let actual = filled(c.count) { out in
            out.update(from: c, count: c.count)
            withPointers(a) { a in
                withPointers(b) { b in
                    Gemm.sgemm(
                        transA, transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                        beta: beta, c: out, ldc: ldc, threading: threading)
                }
            }
        }
        // Products of k terms in [-1, 1]: float accumulation error grows like √k · ulp.
        expectClose(
            actual, expected, absolute: 1e-5 * Float(max(k, 1)).squareRoot(), relative: 1e-5,
            "sgemm \(transA) \(transB) m \(m) n \(n) k \(k) \(threading)", sourceLocation: sourceLocation)
    }

    @Test(
        "matches the reference for every transpose combination on odd shapes",
        arguments: Gemm.Transpose.allCases, Gemm.Transpose.allCases)
    func transposes(_ transA: Gemm.Transpose, _ transB: Gemm.Transpose) {
        for (m, n, k) in [(1, 1, 1), (3, 5, 7), (17, 9, 33), (64, 31, 13), (5, 70, 129)] {
            check(transA, transB, m: m, n: n, k: k, padding: 0, alpha: 1, beta: 0, threading: .single)
            check(transA, transB, m: m, n: n, k: k, padding: 3, alpha: 0.5, beta: 1.5, threading: .single)
        }
    }

    @Test(
        "splitting the output over threads and OpenMP threads give the same products",
        arguments: [Gemm.Threading.splitOutput(threads: 2), .splitOutput(threads: 3), .openMP(threads: 2)])
    func threading(_ threading: Gemm.Threading) {
        for transA in Gemm.Transpose.allCases {
            for transB in Gemm.Transpose.allCases {
                check(transA, transB, m: 37, n: 11, k: 20, padding: 2, alpha: 1, beta: 0.5, threading: threading)
                check(transA, transB, m: 7, n: 45, k: 19, padding: 1, alpha: 2, beta: 0, threading: threading)
            }
        }
    }

    @Test("k = 0 scales C by beta; beta = 0 overwrites NaN")
    func emptyInnerDimension() {
        check(.normal, .normal, m: 4, n: 3, k: 0, padding: 1, alpha: 1, beta: 2, threading: .single)
        var c = [Float](repeating: .nan, count: 6)
        let a: [Float] = [1, 2, 3, 4, 5, 6]
        let b: [Float] = [1, 0, 0, 1]
        c.withUnsafeMutableBufferPointer { c in
            Gemm.sgemm(.normal, .normal, m: 3, n: 2, k: 2, a: a, lda: 2, b: b, ldb: 2, c: c.baseAddress!, ldc: 2)
        }
        expectClose(c, a, absolute: 0, "beta 0 over NaN")
    }

    @Test("the OpenMP thread count is set for the calling thread")
    func openMPThreadCount() {
        let values: [Float] = [1, 2, 3, 4]
        var c = [Float](repeating: 0, count: 4)
        c.withUnsafeMutableBufferPointer { c in
            Gemm.sgemm(
                .normal, .normal, m: 2, n: 2, k: 2, a: values, lda: 2, b: values, ldb: 2, c: c.baseAddress!,
                ldc: 2)
        }
        #expect(OpenMPThreads.currentThreadCount() == 1)
        #expect(c == [7, 10, 15, 22])
    }

    @Test("chunks cover the range once, in near-equal contiguous pieces")
    func chunks() {
        for count in [0, 1, 2, 5, 16, 17] {
            for chunks in 1...4 {
                let ranges = (0..<chunks).map { Parallel.chunkRange($0, of: chunks, count: count) }
                #expect(ranges.map(\.count).reduce(0, +) == count)
                #expect(zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
                #expect((ranges.map(\.count).max() ?? 0) - (ranges.map(\.count).min() ?? 0) <= 1)
            }
        }
    }

    @Test("the peak measurement runs and names its shape")
    func peak() {
        let peak = Gemm.measurePeakGFLOPS(budget: .milliseconds(5))
        #expect(peak.gflops > 0 && peak.gflops.isFinite)
        #expect(peak.repetitions >= 9)
        #expect(peak.description.contains("GFLOP/s"))
    }
}
