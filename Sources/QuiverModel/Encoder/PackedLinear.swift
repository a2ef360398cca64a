import CDNNL
import QuiverTensor

/// A Linear weight (out, in) reordered once into the blocked layout of oneDNN's matmul primitive, for the encoder's
/// products.
///
/// `dnnl_sgemm` repacks the weights on every call; over a handful of rows that repacking costs about as much as the
/// multiply-adds, and the weights are read twice. The matmul primitive (oneDNN's "brgemm" kernels) reads weights
/// packed beforehand, once: 1.3–3× faster than `dnnl_sgemm` from 4 to 32 rows on one thread, and in blocks of 128
/// rows at the machine's best sgemm rate, where `dnnl_sgemm` reaches ~90 % of it (docs/encoder.md). The output
/// columns are cut into `parts`, each packed on its own, so that threads can share a product without sharing a
/// cache line of its output. Up to 16 rows, `PanelProduct` reads the same packed weights faster still.
///
/// Where oneDNN has no blocked kernel for the machine (it has them for AVX-512), `init` returns nil and the caller
/// keeps `dnnl_sgemm`. The packed copy is as large as the weight, kept by every model that runs a forward pass.
final class PackedLinear: @unchecked Sendable {
    /// Up to this many rows a product is one call (to `PanelProduct` up to 16, else a primitive for exactly its rows).
    static let largestExactRows = 32
    /// More rows are cut into blocks of at most this many (128, 64 or 32 rows, then the rest), each one call: the
    /// primitives stay few (34 row counts per weight shape) and a block's dense result small.
    static let largestBlockRows = 128

    let inFeatures: Int
    let outFeatures: Int
    /// The output columns of each part, multiples of `columnBlock` apart.
    let parts: [Range<Int>]
    private let packedWeights: [PackedMemory]

    /// Columns per part come in multiples of this (the width of oneDNN's weight blocks on AVX-512).
    static let columnBlock = 64

    /// Packs `weight` (outFeatures, inFeatures), row-major as `nn.Linear` stores it, in `parts` column blocks (fewer
    /// when the output is narrow); nil when oneDNN has no blocked kernel here.
    init?(weight: UnsafePointer<Float>, outFeatures: Int, inFeatures: Int, parts requested: Int) {
        precondition(outFeatures > 0 && inFeatures > 0 && requested > 0, "PackedLinear: sizes")
        let blocks = (outFeatures + Self.columnBlock - 1) / Self.columnBlock
        let partCount = min(requested, blocks)
        let parts = (0..<partCount).map { part in
            let blocksOfPart = Parallel.chunkRange(part, of: partCount, count: blocks)
            return (blocksOfPart.lowerBound * Self.columnBlock)..<min(outFeatures, blocksOfPart.upperBound * Self.columnBlock)
        }
        guard let lane = MatmulLanes.shared.take() else { return nil }
        defer { MatmulLanes.shared.give(lane) }
        var packed: [PackedMemory] = []
        for columns in parts {
            guard let primitive = MatmulPrimitives.shared.primitive(rows: 16, inFeatures: inFeatures, outFeatures: columns.count),
                  let memory = PackedMemory(
                    weight + columns.lowerBound * inFeatures, layout: primitive.weightsLayout, inFeatures: inFeatures,
                    outFeatures: columns.count, lane: lane)
            else { return nil }
            packed.append(memory)
        }
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.parts = parts
        self.packedWeights = packed
    }

    /// `output (rows, outFeatures) = input (rows, inFeatures) · Wᵀ + bias`, rows `ldOutput` apart; `scratch` holds
    /// min(rows, `largestBlockRows`) · outFeatures floats. False — and nothing written — when oneDNN has no blocked
    /// kernel for a block's rows; the caller then uses `dnnl_sgemm`.
    ///
    /// With `.splitOutput`, the parts run on up to that many threads, unless the product is below
    /// `Gemm.smallestSplitProduct`. Each part's kernel adds its bias. A block of at most 16 rows runs on
    /// `PanelProduct` where it can (`usesPanelProduct`), straight into `output`; oneDNN's blocked kernels write only
    /// dense rows, so their result is copied into the part's columns of `output` (written in place when it is the
    /// only part and `output` is dense).
    func multiply(
        _ input: UnsafePointer<Float>, rows: Int, bias: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        ldOutput: Int, scratch: UnsafeMutablePointer<Float>, threading: Gemm.Threading
    ) -> Bool {
        precondition(rows > 0 && ldOutput >= outFeatures, "PackedLinear: rows \(rows)")
        let threads = rows * inFeatures * outFeatures >= Gemm.smallestSplitProduct ? threading.splitThreads : 1
        let blocks = Self.blocks(rows: rows)
        let onPanels = usesPanelProduct
        // primitives[block][part] (none for a block on panels), every one resolved before anything is written.
        let primitives = blocks.map { block in
            onPanels && block.count <= PanelProduct.largestRows
                ? nil
                : parts.indices.compactMap { part in
                    MatmulPrimitives.shared.primitive(rows: block.count, inFeatures: inFeatures, outFeatures: parts[part].count)
                        .flatMap { $0.reads(packedWeights[part].layout) ? $0 : nil }
                }
        }
        guard primitives.allSatisfy({ $0 == nil || $0!.count == parts.count }) else { return false }
        let inPlace = parts.count == 1 && ldOutput == outFeatures
        let blockRows = blocks[0].count
        nonisolated(unsafe) let (input, bias, output, scratch) = (input, bias, output, scratch)
        Parallel.forEachChunk(of: parts.count, threads: threads) { partsOfThread in
            for part in partsOfThread {
                let columns = parts[part]
                let weights = packedWeights[part]
                for (index, block) in blocks.enumerated() {
                    let blockInput = input + block.lowerBound * inFeatures
                    let result = output + block.lowerBound * ldOutput + columns.lowerBound
                    guard let primitives = primitives[index] else {
                        PanelProduct.multiply(
                            blockInput, rows: block.count, ldInput: inFeatures, depth: inFeatures, panels: weights.values,
                            panelStride: weights.panelStride!, columns: columns.count, bias: bias + columns.lowerBound,
                            into: result, ldOutput: ldOutput)
                        continue
                    }
                    let dense = inPlace ? result : scratch + blockRows * columns.lowerBound
                    primitives[part].run(blockInput, weights: weights, bias: bias + columns.lowerBound, output: dense)
                    guard !inPlace else { continue }
                    for row in 0..<block.count {
                        (result + row * ldOutput).update(from: dense + row * columns.count, count: columns.count)
                    }
                }
            }
        }
        return true
    }

    /// Whether products over few rows run on `PanelProduct`: on AVX-512, when oneDNN laid the weights out as asked.
    var usesPanelProduct: Bool { PanelProduct.isAvailable && packedWeights.allSatisfy { $0.panelStride != nil } }

    /// `0..<rows` in consecutive blocks: one when it is at most `largestExactRows`, else blocks of 128, 64 and 32
    /// rows while that many remain, then the rest; largest first.
    static func blocks(rows: Int) -> [Range<Int>] {
        var blocks: [Range<Int>] = []
        var start = 0
        while rows - start > largestExactRows {
            var size = largestBlockRows
            while size > rows - start { size /= 2 }
            blocks.append(start..<(start + size))
            start += size
        }
        if start < rows { blocks.append(start..<rows) }
        return blocks
    }
}

// MARK: - oneDNN objects

/// A part's weights in oneDNN's blocked layout, in memory of its own.
private final class PackedMemory: @unchecked Sendable {
    let memory: dnnl_memory_t
    /// The layout of the weights (`MatmulPrimitives.panelLayout`), which every primitive over them must read.
    let layout: dnnl_memory_desc_t
    /// The distance between two 16-column panels, when `layout` is the one `PanelProduct` reads (nil if oneDNN
    /// described it otherwise).
    let panelStride: Int?
    private let bytes: UnsafeMutableRawPointer
    var values: UnsafePointer<Float> { UnsafePointer(bytes.assumingMemoryBound(to: Float.self)) }

    /// Reorders the (outFeatures, inFeatures) rows at `weight` — the (inFeatures, outFeatures) operand read with
    /// strides (1, inFeatures) — into `layout`.
    init?(_ weight: UnsafePointer<Float>, layout: dnnl_memory_desc_t, inFeatures: Int, outFeatures: Int, lane: MatmulLane) {
        self.layout = layout
        panelStride = Self.panelStride(of: layout)
        var layout = layout
        var source = MatmulPrimitives.descriptor(rows: inFeatures, columns: outFeatures, rowStride: 1, columnStride: inFeatures)
        bytes = UnsafeMutableRawPointer.allocate(byteCount: max(64, dnnl_memory_desc_get_size(&layout)), alignment: 64)
        var sourceMemory: dnnl_memory_t?
        var packed: dnnl_memory_t?
        var reorderDescriptor: dnnl_primitive_desc_t?
        var reorder: dnnl_primitive_t?
        defer {
            if let sourceMemory { dnnl_memory_destroy(sourceMemory) }
            if let reorder { dnnl_primitive_destroy(reorder) }
            if let reorderDescriptor { dnnl_primitive_desc_destroy(reorderDescriptor) }
        }
        let engine = lane.engine
        guard dnnl_memory_create(&sourceMemory, &source, engine, UnsafeMutableRawPointer(mutating: weight)) == dnnl_success,
              dnnl_memory_create(&packed, &layout, engine, bytes) == dnnl_success, let packed,
              dnnl_reorder_primitive_desc_create(&reorderDescriptor, &source, engine, &layout, engine, nil) == dnnl_success,
              dnnl_primitive_create(&reorder, reorderDescriptor) == dnnl_success, let reorder
        else {
            if let packed { dnnl_memory_destroy(packed) }
            bytes.deallocate()
            return nil
        }
        memory = packed
        DNNLThreads.useOneThread()
        var arguments = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: sourceMemory), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: packed)]
        guard dnnl_primitive_execute(reorder, lane.stream, 2, &arguments) == dnnl_success else { return nil }
        dnnl_stream_wait(lane.stream)
    }

    deinit {
        dnnl_memory_destroy(memory)
        bytes.deallocate()
    }

    /// 16 × the padded depth when `layout` is (depth, columns) in blocks of 16 × 16 — depth-major inside a block,
    /// blocks of a column panel consecutive — as `PanelProduct` reads it; else nil.
    private static func panelStride(of layout: dnnl_memory_desc_t) -> Int? {
        let blocking = layout.format_desc.blocking
        let paddedDepth = Int(layout.padded_dims.0)
        guard layout.format_kind == dnnl_blocked, layout.ndims == 2, blocking.inner_nblks == 2,
              blocking.inner_blks.0 == 16, blocking.inner_idxs.0 == 0, blocking.inner_blks.1 == 16, blocking.inner_idxs.1 == 1,
              blocking.strides.0 == 256, blocking.strides.1 == 16 * paddedDepth, paddedDepth % 16 == 0
        else { return nil }
        return 16 * paddedDepth
    }
}

/// A matmul primitive for one shape (rows × inFeatures) · (inFeatures × outFeatures) + bias, dense input and output
/// (oneDNN 2.6 has blocked kernels only for dense output), the weights in `MatmulPrimitives.panelLayout`. Executing it is
/// thread-safe: each call brings its own stream, scratch and memory objects (a `MatmulLane`).
final class MatmulPrimitive: @unchecked Sendable {
    let rows: Int
    let inFeatures: Int
    let outFeatures: Int
    let weightsLayout: dnnl_memory_desc_t
    private let primitive: dnnl_primitive_t
    fileprivate let scratchpadLayout: dnnl_memory_desc_t?
    private let scratchpadBytes: Int

    fileprivate init?(rows: Int, inFeatures: Int, outFeatures: Int, engine: dnnl_engine_t) {
        var source = Self.sourceLayout(rows: rows, inFeatures: inFeatures)
        var destination = Self.destinationLayout(rows: rows, outFeatures: outFeatures)
        var bias = Self.biasLayout(outFeatures: outFeatures)
        var weights = MatmulPrimitives.panelLayout(rows: inFeatures, columns: outFeatures)
        var matmul = dnnl_matmul_desc_t()
        guard dnnl_matmul_desc_init(&matmul, &source, &weights, &bias, &destination) == dnnl_success else { return nil }
        var attributes: dnnl_primitive_attr_t?
        guard dnnl_primitive_attr_create(&attributes) == dnnl_success, let attributes else { return nil }
        defer { dnnl_primitive_attr_destroy(attributes) }
        dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user)
        var descriptor: dnnl_primitive_desc_t?
        // oneDNN fixes a primitive's thread count when it creates it: one, like every kernel here.
        DNNLThreads.useOneThread()
        guard dnnl_primitive_desc_create(&descriptor, &matmul, attributes, engine, nil) == dnnl_success, let descriptor
        else { return nil }
        defer { dnnl_primitive_desc_destroy(descriptor) }
        // Only oneDNN's blocked kernels read packed weights; its other implementations repack like dnnl_sgemm.
        var name: UnsafePointer<CChar>?
        guard dnnl_primitive_desc_query(descriptor, dnnl_query_impl_info_str, 0, &name) == dnnl_success, let name,
              String(cString: name).hasPrefix("brg"),
              let chosen = dnnl_primitive_desc_query_md(descriptor, dnnl_query_weights_md, 0)
        else { return nil }
        var primitive: dnnl_primitive_t?
        guard dnnl_primitive_create(&primitive, descriptor) == dnnl_success, let primitive else { return nil }
        self.rows = rows
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.primitive = primitive
        weightsLayout = chosen.pointee
        if let scratchpad = dnnl_primitive_desc_query_md(descriptor, dnnl_query_scratchpad_md, 0),
           dnnl_memory_desc_get_size(scratchpad) > 0 {
            scratchpadLayout = scratchpad.pointee
            scratchpadBytes = dnnl_memory_desc_get_size(scratchpad)
        } else {
            scratchpadLayout = nil
            scratchpadBytes = 0
        }
    }

    deinit { dnnl_primitive_destroy(primitive) }

    static func sourceLayout(rows: Int, inFeatures: Int) -> dnnl_memory_desc_t {
        MatmulPrimitives.descriptor(rows: rows, columns: inFeatures, rowStride: inFeatures, columnStride: 1)
    }
    static func destinationLayout(rows: Int, outFeatures: Int) -> dnnl_memory_desc_t {
        MatmulPrimitives.descriptor(rows: rows, columns: outFeatures, rowStride: outFeatures, columnStride: 1)
    }
    static func biasLayout(outFeatures: Int) -> dnnl_memory_desc_t {
        MatmulPrimitives.descriptor(rows: 1, columns: outFeatures, rowStride: outFeatures, columnStride: 1)
    }

    /// Whether weights packed in `layout` are what this primitive reads.
    func reads(_ layout: dnnl_memory_desc_t) -> Bool {
        var (mine, theirs) = (weightsLayout, layout)
        return dnnl_memory_desc_equal(&mine, &theirs) != 0
    }

    /// output (rows, outFeatures) = input (rows, inFeatures) · the packed weights + bias (outFeatures), all dense;
    /// on the calling thread.
    fileprivate func run(
        _ input: UnsafePointer<Float>, weights: PackedMemory, bias: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
    ) {
        guard let lane = MatmulLanes.shared.take() else { preconditionFailure("PackedLinear: no oneDNN stream") }
        defer { MatmulLanes.shared.give(lane) }
        guard let bindings = lane.bindings(for: self) else {
            preconditionFailure("PackedLinear: oneDNN could not describe the buffers of a \(rows)-row product")
        }
        var arguments = bindings.arguments(
            input: input, weights: weights.memory, bias: bias, output: output,
            scratch: scratchpadBytes > 0 ? lane.scratch(scratchpadBytes) : nil)
        DNNLThreads.useOneThread()
        let status = dnnl_primitive_execute(primitive, lane.stream, Int32(arguments.count), &arguments)
        precondition(status == dnnl_success, "PackedLinear: oneDNN matmul failed with status \(status.rawValue)")
        dnnl_stream_wait(lane.stream)
    }
}

/// One lane's memory objects for one primitive's operands, made once and pointed at each call's buffers (creating
/// them costs about as much per call as a 16-row product's bias).
private final class MatmulBindings {
    private let source: dnnl_memory_t
    private let bias: dnnl_memory_t
    private let destination: dnnl_memory_t
    private let scratchpad: dnnl_memory_t?

    init?(_ primitive: MatmulPrimitive, engine: dnnl_engine_t) {
        var layouts = [
            MatmulPrimitive.sourceLayout(rows: primitive.rows, inFeatures: primitive.inFeatures),
            MatmulPrimitive.biasLayout(outFeatures: primitive.outFeatures),
            MatmulPrimitive.destinationLayout(rows: primitive.rows, outFeatures: primitive.outFeatures),
        ]
        if let scratchpad = primitive.scratchpadLayout { layouts.append(scratchpad) }
        var made: [dnnl_memory_t] = []
        for index in layouts.indices {
            var memory: dnnl_memory_t?
            guard dnnl_memory_create(&memory, &layouts[index], engine, nil) == dnnl_success, let memory else {
                made.forEach { dnnl_memory_destroy($0) }
                return nil
            }
            made.append(memory)
        }
        (source, bias, destination) = (made[0], made[1], made[2])
        scratchpad = made.count > 3 ? made[3] : nil
    }

    deinit {
        for memory in [source, bias, destination, scratchpad] { if let memory { dnnl_memory_destroy(memory) } }
    }

    /// The execute arguments with the memory objects pointed at these buffers.
    func arguments(
        input: UnsafePointer<Float>, weights: dnnl_memory_t, bias biasValues: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>, scratch: UnsafeMutableRawPointer?
    ) -> [dnnl_exec_arg_t] {
        dnnl_memory_set_data_handle(source, UnsafeMutableRawPointer(mutating: input))
        dnnl_memory_set_data_handle(bias, UnsafeMutableRawPointer(mutating: biasValues))
        dnnl_memory_set_data_handle(destination, output)
        var arguments = [
            dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: source), dnnl_exec_arg_t(arg: DNNL_ARG_WEIGHTS, memory: weights),
            dnnl_exec_arg_t(arg: DNNL_ARG_BIAS, memory: bias), dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: destination),
        ]
        if let scratchpad, let scratch {
            dnnl_memory_set_data_handle(scratchpad, scratch)
            arguments.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: scratchpad))
        }
        return arguments
    }
}

/// The matmul primitives of every shape used so far, shared by all packed weights (a primitive holds generated code,
/// not weights). At most 34 row counts per weight shape (`PackedLinear.blocks`), so the cache stays small.
final class MatmulPrimitives: @unchecked Sendable {
    static let shared = MatmulPrimitives()

    private struct Shape: Hashable {
        let rows: Int
        let inFeatures: Int
        let outFeatures: Int
    }

    /// The one engine of every primitive, packed weight and stream here (oneDNN wants them to agree).
    private let owner = DNNLStream()
    var engine: dnnl_engine_t? { owner?.engine }
    private let primitives = Locked<[Shape: MatmulPrimitive?]>([:])

    private init() {}

    /// The primitive for the shape, created on first use; nil when oneDNN has no blocked kernel for it.
    func primitive(rows: Int, inFeatures: Int, outFeatures: Int) -> MatmulPrimitive? {
        guard let engine else { return nil }
        let shape = Shape(rows: rows, inFeatures: inFeatures, outFeatures: outFeatures)
        return primitives.withLock { primitives in
            if let cached = primitives[shape] { return cached }
            let created = MatmulPrimitive(rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, engine: engine)
            primitives[shape] = created
            return created
        }
    }

    /// A (rows, columns) F32 matrix with the given strides.
    static func descriptor(rows: Int, columns: Int, rowStride: Int, columnStride: Int) -> dnnl_memory_desc_t {
        var descriptor = dnnl_memory_desc_t()
        var dims = dnnl_dims_t(Int64(rows), Int64(columns), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var strides = dnnl_dims_t(Int64(rowStride), Int64(columnStride), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let status = withUnsafePointer(to: &dims) { dims in
            withUnsafePointer(to: &strides) { strides in
                dims.withMemoryRebound(to: dnnl_dim_t.self, capacity: 12) { dims in
                    strides.withMemoryRebound(to: dnnl_dim_t.self, capacity: 12) { strides in
                        dnnl_memory_desc_init_by_strides(&descriptor, 2, dims, dnnl_f32, strides)
                    }
                }
            }
        }
        precondition(status == dnnl_success, "PackedLinear: a \(rows) × \(columns) matrix oneDNN cannot describe")
        return descriptor
    }

    /// A (rows, columns) F32 matrix in blocks of 16 × 16, row-major inside a block and the blocks of 16 columns
    /// consecutive (`BA16a16b`): the layout both oneDNN's blocked kernel (as fast on it as on the 64-column panels
    /// it prefers, within 1–2 %) and `PanelProduct` read.
    static func panelLayout(rows: Int, columns: Int) -> dnnl_memory_desc_t {
        var descriptor = dnnl_memory_desc_t()
        var dims = dnnl_dims_t(Int64(rows), Int64(columns), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let status = withUnsafePointer(to: &dims) { dims in
            dims.withMemoryRebound(to: dnnl_dim_t.self, capacity: 12) { dims in
                dnnl_memory_desc_init_by_tag(&descriptor, 2, dims, dnnl_f32, dnnl_BA16a16b)
            }
        }
        precondition(status == dnnl_success, "PackedLinear: a \(rows) × \(columns) matrix oneDNN cannot describe")
        return descriptor
    }
}

/// A stream on the shared engine and scratch memory, for one call at a time (a oneDNN stream is not thread-safe).
final class MatmulLane: @unchecked Sendable {
    let engine: dnnl_engine_t
    let stream: dnnl_stream_t
    private var scratchBytes: UnsafeMutableRawPointer?
    private var scratchCount = 0
    /// Memory objects per primitive (primitives live as long as the process: the identifiers stay theirs).
    private var bindingsOfPrimitive: [ObjectIdentifier: MatmulBindings] = [:]

    init?(engine: dnnl_engine_t) {
        var stream: dnnl_stream_t?
        guard dnnl_stream_create(&stream, engine, UInt32(dnnl_stream_default_flags.rawValue)) == dnnl_success, let stream
        else { return nil }
        self.engine = engine
        self.stream = stream
    }

    deinit {
        dnnl_stream_destroy(stream)
        scratchBytes?.deallocate()
    }

    /// This lane's memory objects for `primitive`'s operands, made on first use.
    fileprivate func bindings(for primitive: MatmulPrimitive) -> MatmulBindings? {
        if let made = bindingsOfPrimitive[ObjectIdentifier(primitive)] { return made }
        let made = MatmulBindings(primitive, engine: engine)
        bindingsOfPrimitive[ObjectIdentifier(primitive)] = made
        return made
    }

    /// At least `bytes` bytes of scratch, kept for the next call.
    func scratch(_ bytes: Int) -> UnsafeMutableRawPointer {
        if let scratchBytes, scratchCount >= bytes { return scratchBytes }
        scratchBytes?.deallocate()
        scratchBytes = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        scratchCount = bytes
        return scratchBytes!
    }
}

/// The idle lanes: a call takes one (creating it when none is idle) and gives it back.
final class MatmulLanes: @unchecked Sendable {
    static let shared = MatmulLanes()
    private let idle = Locked<[MatmulLane]>([])

    func take() -> MatmulLane? {
        if let lane = idle.withLock({ $0.popLast() }) { return lane }
        return MatmulPrimitives.shared.engine.flatMap { MatmulLane(engine: $0) }
    }
    func give(_ lane: MatmulLane) { idle.withLock { $0.append(lane) } }
}

extension LinearWeights {
    /// The floats of scratch `forward` needs for `rows` rows.
    func forwardScratch(rows: Int) -> Int { min(rows, PackedLinear.largestBlockRows) * outFeatures }

    /// `output (rows, outFeatures) = input (rows, inFeatures) · Wᵀ + b` on the calling thread: over the weights
    /// packed once (`PackedLinear`), else `Linear.forward`. `scratch` holds `forwardScratch(rows:)` floats.
    func forward(
        _ input: UnsafePointer<Float>, rows: Int, into output: UnsafeMutablePointer<Float>,
        scratch: UnsafeMutablePointer<Float>
    ) {
        if let packed = packedCopy.packed(self),
           packed.multiply(
            input, rows: rows, bias: bias.readPointer, into: output, ldOutput: outFeatures, scratch: scratch,
            threading: .single)
        {
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

    /// `linear` packed in one part per core, or nil when oneDNN has no blocked kernel here.
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
