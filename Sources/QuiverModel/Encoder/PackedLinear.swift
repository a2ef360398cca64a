import QuiverTensor

/// A Linear weight (out, in) reordered once into panels of 16 output columns, for the encoder's products on
/// `PanelProduct`.
///
/// `dnnl_sgemm` repacks the weights on every call; over a handful of rows that repacking costs about as much as the
/// multiply-adds, and the weights are read twice. `PanelProduct` reads weights packed beforehand and streams each
/// panel once while the rows' sums stay in registers: on AVX-512 faster than oneDNN's blocked matmul on packed weights
/// at every row count measured, by 10–30 % from 9 to 64 rows and 1–3 % at 128–512 (docs/encoder.md). The output columns are
/// cut into `parts`, each packed on its own, so that threads can share a product without sharing a cache line of its
/// output.
///
/// Without AVX2 and FMA `init` returns nil and the caller keeps `dnnl_sgemm`. The packed copy is as large as the weight
/// (its last panel padded to 16 columns), kept by every model that runs a forward pass.
final class PackedLinear: @unchecked Sendable {
    let inFeatures: Int
    let outFeatures: Int
    /// The output columns of each part, multiples of `columnBlock` apart.
    let parts: [Range<Int>]
    private let panels: [PanelWeights]

    /// Columns per part come in multiples of this: whole cache lines of output per part.
    static let columnBlock = 64

    /// Packs `weight` (outFeatures, inFeatures), row-major as `nn.Linear` stores it, in `parts` column blocks (fewer
    /// when the output is narrow); nil when this CPU cannot run `PanelProduct`.
    init?(weight: UnsafePointer<Float>, outFeatures: Int, inFeatures: Int, parts requested: Int) {
        precondition(outFeatures > 0 && inFeatures > 0 && requested > 0, "PackedLinear: sizes")
        guard PanelProduct.isAvailable else { return nil }
        let blocks = (outFeatures + Self.columnBlock - 1) / Self.columnBlock
        let partCount = min(requested, blocks)
        parts = (0..<partCount).map { part in
            let blocksOfPart = Parallel.chunkRange(part, of: partCount, count: blocks)
            return (blocksOfPart.lowerBound * Self.columnBlock)..<min(outFeatures, blocksOfPart.upperBound * Self.columnBlock)
        }
        panels = parts.map { columns in
            PanelWeights(weight + columns.lowerBound * inFeatures, columns: columns.count, depth: inFeatures)
        }
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }

    /// `output (rows, outFeatures) = input (rows, inFeatures) · Wᵀ + bias`, rows `ldOutput` apart.
    ///
    /// With `.splitOutput`, the parts run on up to that many threads, unless the product is below
    /// `Gemm.smallestSplitProduct`; each writes its columns of `output` directly.
    func multiply(
        _ input: UnsafePointer<Float>, rows: Int, bias: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        ldOutput: Int, threading: Gemm.Threading
    ) {
        precondition(rows > 0 && ldOutput >= outFeatures, "PackedLinear: rows \(rows)")
        let threads = rows * inFeatures * outFeatures >= Gemm.smallestSplitProduct ? threading.splitThreads : 1
        nonisolated(unsafe) let (input, bias, output) = (input, bias, output)
        Parallel.forEachChunk(of: parts.count, threads: threads) { partsOfThread in
            for part in partsOfThread {
                let columns = parts[part]
                PanelProduct.multiply(
                    input, rows: rows, ldInput: inFeatures, depth: inFeatures, panels: panels[part].values,
                    panelStride: panels[part].panelStride, columns: columns.count, bias: bias + columns.lowerBound,
                    into: output + columns.lowerBound, ldOutput: ldOutput)
            }
        }
    }
}

/// One part's weights as `PanelProduct` reads them: element (k, c) of the (depth, columns) operand Wᵀ at
/// `values[(c / 16) · panelStride + k · 16 + c % 16]`, the last panel's missing columns zero.
private final class PanelWeights: @unchecked Sendable {
    let values: UnsafeMutablePointer<Float>
    let panelStride: Int

    /// Reorders the (columns, depth) rows at `weight`.
    init(_ weight: UnsafePointer<Float>, columns: Int, depth: Int) {
        panelStride = 16 * depth
        let count = (columns + 15) / 16 * panelStride
        values = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
        values.initialize(repeating: 0, count: count)
        for column in 0..<columns {
            let panel = values + (column / 16) * panelStride + column % 16
            let row = weight + column * depth
            for k in 0..<depth { panel[k * 16] = row[k] }
        }
    }

    deinit { values.deallocate() }
}

extension LinearWeights {
    /// `output (rows, outFeatures) = input (rows, inFeatures) · Wᵀ + b` on the calling thread: over the weights
    /// packed once (`PackedLinear`), else `Linear.forward`.
    func forward(_ input: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>) {
        if let packed = packedCopy.packed(self) {
            packed.multiply(
                input, rows: rows, bias: bias.readPointer, into: output, ldOutput: outFeatures, threading: .single)
            return
        }
        Linear.forward(
            input, weight: weight.readPointer, bias: bias.readPointer, into: output, rows: rows, inFeatures: inFeatures,
            outFeatures: outFeatures)
    }
}

/// A Linear weight's packed copy, made the first time a forward pass asks for it (training's own products never do,
/// and never pay its memory).
final class PackedLinearSlot: @unchecked Sendable {
    private let packed = Locked<PackedLinear??>(nil)

    init() {}

    /// `linear` packed in one part per core, or nil when this CPU cannot run `PanelProduct`.
    func packed(_ linear: LinearWeights) -> PackedLinear? {
        packed.withLock { packed in
            if let made = packed { return made }
            let made = PackedLinear(
                weight: linear.weight.readPointer, outFeatures: linear.outFeatures, inFeatures: linear.inFeatures,
                parts: Parallel.availableCores)
            packed = .some(made)
            return made
        }
    }
}
