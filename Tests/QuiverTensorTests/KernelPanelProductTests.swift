import Testing

@testable import QuiverTensor

/// `PanelProduct`'s kernels (those this CPU runs) against the reference loop, over row counts around their row
/// blocks, depths and widths that leave partial panels, and strided input and output.
@Suite struct KernelPanelProductTests {
    @Test(arguments: [
        (rows: 1, depth: 384, columns: 384), (rows: 4, depth: 33, columns: 70), (rows: 7, depth: 16, columns: 17),
        (rows: 9, depth: 1536, columns: 192), (rows: 13, depth: 5, columns: 1), (rows: 16, depth: 384, columns: 1152),
        (rows: 2, depth: 1, columns: 64), (rows: 8, depth: 100, columns: 33), (rows: 21, depth: 40, columns: 48),
    ])
    func matchesTheReference(rows: Int, depth: Int, columns: Int) throws {
        let flags = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        #expect(PanelProduct.Kernel.avx512.runsHere == flags.contains(" avx512f"))
        #expect(PanelProduct.Kernel.avx2.runsHere == (flags.contains(" avx2") && flags.contains(" fma")))
        let paddedDepth = (depth + 15) / 16 * 16
        let panelCount = (columns + 15) / 16
        // W (depth, columns) in panels of 16 columns, the padding zero as oneDNN writes it.
        let weight = randomFloats(depth * columns, seed: UInt64(rows * 1_000 + depth))
        var panels = [Float](repeating: 0, count: panelCount * paddedDepth * 16)
        for k in 0..<depth {
            for column in 0..<columns {
                panels[(column / 16) * paddedDepth * 16 + k * 16 + column % 16] = weight[k * columns + column]
            }
        }
        let (ldInput, ldOutput) = (depth + 3, columns + 5)
        let input = randomFloats(rows * ldInput, seed: UInt64(columns))
        let bias = randomFloats(columns, seed: 7)
        for (kernel, withBias) in PanelProduct.Kernel.allCases.filter(\.runsHere).flatMap({ k in [(k, true), (k, false)] }) {
            // Outputs past `columns` in each row must stay untouched.
            var actual = [Float](repeating: .nan, count: rows * ldOutput)
            var expected = actual
            bias.withUnsafeBufferPointer { bias in
                PanelProduct.multiply(
                    input, rows: rows, ldInput: ldInput, depth: depth, panels: panels, panelStride: paddedDepth * 16,
                    columns: columns, bias: withBias ? bias.baseAddress : nil, into: &actual, ldOutput: ldOutput,
                    kernel: kernel)
                PanelProduct.reference(
                    input, rows: rows, ldInput: ldInput, depth: depth, panels: panels, panelStride: paddedDepth * 16,
                    columns: columns, bias: withBias ? bias.baseAddress : nil, into: &expected, ldOutput: ldOutput)
            }
            let comparison = compare(actual, expected, absolute: 1e-5, relative: 1e-5)
            #expect(comparison.failures.isEmpty, "\(kernel): max |Δ| \(comparison.maxAbsoluteError), bias \(withBias)")
        }
    }
}
