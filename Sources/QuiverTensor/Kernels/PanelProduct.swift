import CQuiverKernels

/// `output (rows, columns) = input (rows, depth) · W + bias` with W stored in panels of 16 columns — element (k, c) at
/// `panels[(c / 16) · panelStride + k · 16 + c % 16]`, oneDNN's `BA16a16b` layout (`panelStride` ≥ 16 · depth; the
/// last panel is readable in full, its extra columns never written).
///
/// Every panel is streamed from memory once while its rows, in blocks of at most 16, keep their sums in registers:
/// 15–25 % faster than oneDNN's blocked matmul at 9–16 rows on AVX-512, 1–3 % at 128–512 (docs/encoder.md). It
/// needs AVX-512F (`isAvailable`); `reference` is the plain loop it is tested against.
public enum PanelProduct {
    /// Whether this CPU runs the kernel.
    public static let isAvailable = quiver_panel_product_available() != 0

    /// Rows of `input` are `ldInput` floats apart, of `output` `ldOutput`; `bias` may be nil. Requires `isAvailable`.
    public static func multiply(
        _ input: UnsafePointer<Float>, rows: Int, ldInput: Int, depth: Int, panels: UnsafePointer<Float>,
        panelStride: Int, columns: Int, bias: UnsafePointer<Float>?, into output: UnsafeMutablePointer<Float>,
        ldOutput: Int
    ) {
        precondition(isAvailable, "PanelProduct: this CPU has no AVX-512F")
        precondition(
            rows >= 0 && depth >= 0 && columns >= 0 && ldInput >= depth && ldOutput >= columns && panelStride >= 16 * depth,
            "PanelProduct: sizes")
        quiver_panel_product(
            input, Int64(rows), Int64(ldInput), Int64(depth), panels, Int64(panelStride), Int64(columns), bias, output,
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
