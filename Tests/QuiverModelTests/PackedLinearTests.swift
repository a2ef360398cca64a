import Foundation
import QuiverTensor
import Testing

@testable import QuiverModel

/// `PackedLinear` (few-row products over weights packed once) against the Double reference product.
@Suite struct PackedLinearTests {
    /// Whether the CPU has AVX2 and FMA (or AVX-512), which `PanelProduct` (the kernel of `PackedLinear`) needs.
    static let hasVectorKernel: Bool = {
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        return flags.contains(" avx512f") || (flags.contains(" avx2") && flags.contains(" fma"))
    }()

    @Test(arguments: [
        (rows: 1, out: 384, in: 384, parts: 2), (rows: 9, out: 1152, in: 384, parts: 2), (rows: 16, out: 384, in: 1536, parts: 2),
        (rows: 32, out: 1536, in: 384, parts: 3), (rows: 5, out: 70, in: 33, parts: 2), (rows: 3, out: 10, in: 7, parts: 1),
        (rows: 31, out: 200, in: 64, parts: 4), (rows: 200, out: 1152, in: 384, parts: 2), (rows: 129, out: 70, in: 33, parts: 2),
    ])
    func matchesTheReferenceProduct(rows: Int, out: Int, in inFeatures: Int, parts: Int) throws {
        let weight = (0..<(out * inFeatures)).map { Float((($0 * 7919) % 2_001) - 1_000) / 1_000 }
        let bias = (0..<out).map { Float($0 % 13) / 10 - 0.6 }
        let input = (0..<(rows * inFeatures)).map { Float((($0 * 104_729) % 1_999) - 999) / 500 }
        let packed = weight.withUnsafeBufferPointer {
            PackedLinear(weight: $0.baseAddress!, outFeatures: out, inFeatures: inFeatures, parts: parts)
        }
        guard let packed else {
            #expect(!Self.hasVectorKernel, "PanelProduct runs on AVX2 and AVX-512; PackedLinear must be available")
            return
        }
        #expect(packed.parts.count == min(parts, (out + 63) / 64))
        #expect(packed.parts.first?.lowerBound == 0 && packed.parts.last?.upperBound == out)

        var expected = [Float](repeating: 0, count: rows * out)
        Gemm.Reference.sgemm(.normal, .transposed, m: rows, n: out, k: inFeatures, a: input, lda: inFeatures, b: weight, ldb: inFeatures, c: &expected, ldc: out)
        for row in 0..<rows { for column in 0..<out { expected[row * out + column] += bias[column] } }

        for threading in [Gemm.Threading.single, .splitOutput(threads: 2)] {
            // Output rows wider than the product: the columns past `out` are left alone.
            let ldOutput = out + 3
            var output = [Float](repeating: .nan, count: rows * ldOutput)
            packed.multiply(input, rows: rows, bias: bias, into: &output, ldOutput: ldOutput, threading: threading)
            let actual = (0..<rows).flatMap { row in output[(row * ldOutput)..<(row * ldOutput + out)] }
            #expect(maxAbsDifference(actual, expected) < 1e-4, "\(threading)")
            #expect((0..<rows).allSatisfy { row in output[(row * ldOutput + out)..<((row + 1) * ldOutput)].allSatisfy(\.isNaN) })
        }
    }

    @Test func everyRowCountRuns() throws {
        let (out, inFeatures) = (128, 96)
        let weight = (0..<(out * inFeatures)).map { Float($0 % 17) / 17 - 0.5 }
        let bias = [Float](repeating: 0.25, count: out)
        guard let packed = (weight.withUnsafeBufferPointer { PackedLinear(weight: $0.baseAddress!, outFeatures: out, inFeatures: inFeatures, parts: 2) })
        else {
            #expect(!Self.hasVectorKernel)
            return
        }
        for rows in Array(1...33) + [63, 64, 100, 128, 129, 300] {
            let input = (0..<(rows * inFeatures)).map { Float(($0 * 31) % 23) / 23 - 0.5 }
            var expected = [Float](repeating: 0, count: rows * out)
            Gemm.Reference.sgemm(.normal, .transposed, m: rows, n: out, k: inFeatures, a: input, lda: inFeatures, b: weight, ldb: inFeatures, c: &expected, ldc: out)
            expected = expected.map { $0 + 0.25 }
            var output = [Float](repeating: 0, count: rows * out)
            packed.multiply(input, rows: rows, bias: bias, into: &output, ldOutput: out, threading: .single)
            #expect(maxAbsDifference(output, expected) < 1e-4, "rows \(rows)")
        }
    }

    /// A weight is packed once, on first use, and shared by every copy of its `LinearWeights`.
    @Test func theSlotPacksOnce() {
        let linear = LinearWeights(
            weight: FloatBuffer((0..<(64 * 32)).map { Float($0 % 5) / 5 }), bias: FloatBuffer([Float](repeating: 0, count: 64)),
            inFeatures: 32, outFeatures: 64)
        let copy = linear
        let first = linear.packedCopy.packed(linear)
        if Self.hasVectorKernel { #expect(first != nil) }
        #expect(first === copy.packedCopy.packed(copy))
    }
}
