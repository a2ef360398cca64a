import CQuiverKernels
import Foundation

/// `output (rows, columns) = input (rows, depth) · W + bias` with W stored in panels of 16 columns — element (k, c) at
/// `panels[(c / 16) · panelStride + k · 16 + c % 16]`, oneDNN's `BA16a16b` layout (`panelStride` ≥ 16 · depth; the
/// last panel is readable in full, its extra columns never written).
///
/// Every panel is streamed from memory once while its rows, in blocks, keep their sums in registers: on AVX-512
/// 15–25 % faster than oneDNN's blocked matmul at 9–16 rows, 1–3 % at 128–512 (docs/encoder.md). A kernel for
/// AVX2 + FMA serves CPUs without AVX-512 (`Kernel.best`); `reference` is the plain loop both are tested against.
public enum PanelProduct {
    /// The instruction sets with a kernel, fastest first.
    public enum Kernel: Sendable, CaseIterable {
        /// 16 rows × 16 columns of sums in registers (fewer rows over 2 or 4 panels).
        case avx512
        /// 6 rows × 16 columns (16 registers of 8 floats).
        case avx2

        /// The fastest kernel this CPU runs, nil when it runs none — at most the one `QUIVER_MAX_CPU_ISA` names
        /// (`avx2`, or `none` for oneDNN's sgemm alone), to compare the kernels or set one aside.
        public static let best: Kernel? = {
            let fastest = allCases.first(where: \.runsHere)
            switch ProcessInfo.processInfo.environment["QUIVER_MAX_CPU_ISA"]?.lowercased() {
            case "none": return nil
            case "avx2": return fastest == nil ? nil : .avx2
            default: return fastest
            }
        }()

        /// Whether this CPU runs it.
        public var runsHere: Bool { quiver_panel_product_runs(code) != 0 }

        var code: quiver_panel_kernel { self == .avx512 ? quiver_panel_avx512 : quiver_panel_avx2 }
    }

    /// Whether this CPU runs a kernel.
    public static var isAvailable: Bool { Kernel.best != nil }

    /// Rows of `input` are `ldInput` floats apart, of `output` `ldOutput`; `bias` may be nil. `kernel` must run here.
    public static func multiply(
        _ input: UnsafePointer<Float>, rows: Int, ldInput: Int, depth: Int, panels: UnsafePointer<Float>,
        panelStride: Int, columns: Int, bias: UnsafePointer<Float>?, into output: UnsafeMutablePointer<Float>,
        ldOutput: Int, kernel: Kernel? = Kernel.best
    ) {
        guard let kernel, kernel.runsHere else { preconditionFailure("PanelProduct: this CPU runs no \(kernel.map { "\($0)" } ?? "") kernel") }
        precondition(
            rows >= 0 && depth >= 0 && columns >= 0 && ldInput >= depth && ldOutput >= columns && panelStride >= 16 * depth,
            "PanelProduct: sizes")
        quiver_panel_product(
            kernel.code, input, Int64(rows), Int64(ldInput), Int64(depth), panels, Int64(panelStride), Int64(columns), bias, output,
            Int64(ldOutput))
    }

    /// The same product, one output at a time in sums of k order.
    public static func reference(
        _ input: UnsafePointer<Float>, rows: Int, ldInput: Int, depth: Int, panels: UnsafePointer<Float>,
        panelStride: Int, columns: Int, bias: UnsafePointer<Float>?, into output: UnsafeMutablePointer<Float>,
        ldOutput: Int
    ) {
        for row in 0..<rows {
            for column in 0..<columns {
                let panel = panels + (column / 16) * panelStride + column % 16
                var sum = bias?[column] ?? 0
                for k in 0..<depth { sum += input[row * ldInput + k] * panel[k * 16] }
                output[row * ldOutput + column] = sum
            }
        }
    }
}
