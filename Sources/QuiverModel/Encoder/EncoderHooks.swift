import QuiverTensor

// MARK: - Sites

/// The six Linear projections of an encoder layer, after each of which a hook may add a delta (LoRA) or scale the
/// output (IA³), and before each of which it may scale the input (PEFT's feed-forward IA³).
public enum ProjectionSite: String, Sendable, CaseIterable {
    /// `attention.self.query`.
    case query
    /// `attention.self.key`.
    case key
    /// `attention.self.value`.
    case value
    /// `attention.output.dense`.
    case attentionOutput
    /// `intermediate.dense` (the delta is added before the activation).
    case intermediate
    /// `output.dense`.
    case output
}

/// The two places of an encoder layer that compute `LayerNorm(projected + residual)`, where the `adapters`
/// library inserts bottleneck adapters.
public enum SublayerLocation: String, Sendable, CaseIterable {
    /// After `attention.output.dense`, with `attention.output.LayerNorm`: the library's `mh_adapter`.
    case attentionOutput
    /// After `output.dense`, with `output.LayerNorm`: the library's `output_adapter`.
    case output
}

// MARK: - Batch layout

/// The rows a hook call covers: whole batch items, one after the other, each its own rows (all the same number in a
/// padded batch, each its own length in a packed one).
///
/// Row `r` of the buffers a hook receives belongs to batch item `item(ofRow: r)`, items numbered in the whole batch —
/// so a mixed batch can apply a different adapter to each item.
public struct BatchSlice: Sendable, Equatable {
    /// The batch items these rows belong to, numbered in the whole batch.
    public let items: Range<Int>
    /// Where the rows of every item of the whole batch are.
    public let layout: SequenceLayout

    public init(items: Range<Int>, layout: SequenceLayout) {
        self.items = items
        self.layout = layout
    }

    /// The size of the whole batch.
    public var batch: Int { layout.batch }
    /// The row of the whole batch where this slice starts.
    public var firstRow: Int { layout.starts[items.lowerBound] }
    /// The number of rows.
    public var rows: Int { layout.starts[items.upperBound] - firstRow }

    /// The batch item of row `row` of this slice.
    public func item(ofRow row: Int) -> Int {
        precondition(row >= 0 && row < rows, "BatchSlice: row \(row) is not among \(rows)")
        var item = items.lowerBound
        while layout.starts[item + 1] <= firstRow + row { item += 1 }
        return item
    }

    /// The rows of batch item `item` (which must be in `items`) within this slice's buffers.
    public func rows(ofItem item: Int) -> Range<Int> {
        precondition(items.contains(item), "BatchSlice: item \(item) is not in \(items)")
        let rows = layout.rows(of: item)
        return (rows.lowerBound - firstRow)..<(rows.upperBound - firstRow)
    }
}

// MARK: - Contexts

/// What a projection hook receives: the projection's input, and its output `input · Wᵀ + b` to add a delta to or
/// to scale.
public struct ProjectionHookContext {
    public let layer: Int
    public let site: ProjectionSite
    public let slice: BatchSlice
    /// input is (slice.rows, inFeatures), contiguous.
    public let input: UnsafePointer<Float>
    public let inFeatures: Int
    /// output is (slice.rows, outFeatures) with rows `outputStride` floats apart (query, key and value are
    /// column blocks of one (rows, 3·hidden) buffer). Change it in place; do not write outside the block.
    public let output: UnsafeMutablePointer<Float>
    public let outFeatures: Int
    public let outputStride: Int
    /// The floats asked for by `EncoderHooks.scratchFloats(rows:config:)`, private to this call.
    public let scratch: UnsafeMutableBufferPointer<Float>
    /// The threading the encoder used for the projection itself; products of the hook should use it too.
    public let threading: Gemm.Threading
}

/// What a projection-input hook receives: the rows a projection is about to read, to change in place.
public struct ProjectionInputContext {
    public let layer: Int
    public let site: ProjectionSite
    public let slice: BatchSlice
    /// input is (slice.rows, inFeatures), contiguous, private to this projection (the encoder copies it first when
    /// the same rows are read elsewhere: the residual, the other projections of the same input).
    public let input: UnsafeMutablePointer<Float>
    public let inFeatures: Int
}

/// Key and value vectors that a hook puts in front of an item's own keys and values in a layer's self-attention
/// (prefix tuning). Every query of the item sees them, padded queries included; positions are not shifted.
public struct AttentionPrefix: Sendable {
    /// The number of positions.
    public let length: Int
    /// keys is (length, hidden): the heads side by side, as the key projection writes them.
    public let keys: FloatBuffer
    /// values is (length, hidden), laid out like `keys`.
    public let values: FloatBuffer

    public init(length: Int, keys: FloatBuffer, values: FloatBuffer) {
        precondition(keys.count == values.count && length > 0 && keys.count % length == 0, "AttentionPrefix: sizes")
        self.length = length
        self.keys = keys
        self.values = values
    }
}

/// What a sublayer hook receives to compute a sublayer's output in place of `LayerNorm(projected + residual)`.
public struct SublayerHookContext {
    public let layer: Int
    public let location: SublayerLocation
    public let slice: BatchSlice
    /// projected is (slice.rows, hiddenSize): the dense output `x · Wᵀ + b`, after any projection hook. The hook
    /// may overwrite it.
    public let projected: UnsafeMutablePointer<Float>
    /// residual is (slice.rows, hiddenSize): the sublayer's input, added back before the LayerNorm.
    public let residual: UnsafePointer<Float>
    /// The layer's LayerNorm for this location (`attention.output.LayerNorm` or `output.LayerNorm`) and its epsilon.
    public let norm: LayerNormWeights
    /// output is (slice.rows, hiddenSize): the sublayer's result goes here. It aliases neither `projected` nor
    /// `residual`.
    public let output: UnsafeMutablePointer<Float>
    public let hiddenSize: Int
    /// The floats asked for by `EncoderHooks.scratchFloats(rows:config:)`, private to this call.
    public let scratch: UnsafeMutableBufferPointer<Float>
    /// The threading the encoder uses for its products at this point.
    public let threading: Gemm.Threading

    /// What the encoder computes without a hook: `output = LayerNorm(projected + residual)` (overwrites
    /// `projected`); rows split between threads like the products.
    public func standardOutput() {
        let h = hiddenSize
        nonisolated(unsafe) let (projected, residual, output) = (projected, residual, output)
        let norm = norm
        Parallel.forEachChunk(of: slice.rows, threads: threading.splitThreads) { rows in
            let offset = rows.lowerBound * h
            Elementwise.accumulate(residual + offset, into: projected + offset, count: rows.count * h)
            norm.apply(projected + offset, into: output + offset, rows: rows.count)
        }
    }
}

// MARK: - Hooks

/// Points where another module (adapters, LoRA, fusion) plugs into the encoder's layers.
///
/// Every requirement has a default that changes nothing, so an implementation provides only what it needs. The
/// encoder's `forward` is generic over the hooks: with `NoEncoderHooks` every call compiles away.
///
/// The encoder may split a batch into slices of whole items and run them concurrently on several threads (one
/// call per slice, on disjoint rows): implementations must be thread-safe and must only write the rows of the
/// slice they are given, and the scratch memory they are handed.
///
/// ```swift
/// struct AddOne: EncoderHooks {
///     func addProjectionDelta(_ context: ProjectionHookContext) {
///         guard context.site == .value else { return }
///         for row in 0..<context.slice.rows {
///             for column in 0..<context.outFeatures { context.output[row * context.outputStride + column] += 1 }
///         }
///     }
/// }
/// let states = try encoder.forward(input, hooks: AddOne())
/// ```
public protocol EncoderHooks: Sendable {
    /// Scratch floats the hooks need for one call over `rows` rows; the encoder reserves them once per forward
    /// pass and slice. Default 0.
    func scratchFloats(rows: Int, config: BertConfig) -> Int

    /// Called after every projection `output = input · Wᵀ + b` of every layer; may add a delta to `output` (LoRA)
    /// or scale it (IA³). Default: nothing.
    func addProjectionDelta(_ context: ProjectionHookContext)

    /// Whether `scaleProjectionInput` changes the input of projection `site` of `layer`. Default false.
    func scalesProjectionInput(layer: Int, site: ProjectionSite) -> Bool

    /// Changes a projection's input rows before its product (PEFT's feed-forward IA³: `W (x ⊙ l) + b`); called only
    /// where `scalesProjectionInput` is true. Default: nothing.
    func scaleProjectionInput(_ context: ProjectionInputContext)

    /// The most positions `attentionPrefix` returns for any layer and item: the encoder sizes its attention buffers
    /// with it, and with 0 (the default) never asks for prefixes.
    var largestAttentionPrefix: Int { get }

    /// The keys and values in front of batch item `item`'s own (numbered in the whole batch) in `layer`'s
    /// self-attention, at most `largestAttentionPrefix` positions; nil for none (the default).
    func attentionPrefix(layer: Int, item: Int) -> AttentionPrefix?

    /// Whether `sublayerOutput` replaces the encoder's `LayerNorm(projected + residual)` at `location` of `layer`.
    /// Default false.
    func replacesSublayerOutput(layer: Int, location: SublayerLocation) -> Bool

    /// Computes the sublayer's output into `context.output`; called only where `replacesSublayerOutput` is true.
    /// Default: `context.standardOutput()`.
    func sublayerOutput(_ context: SublayerHookContext)
}

extension EncoderHooks {
    public func scratchFloats(rows: Int, config: BertConfig) -> Int { 0 }
    public func addProjectionDelta(_ context: ProjectionHookContext) {}
    public func scalesProjectionInput(layer: Int, site: ProjectionSite) -> Bool { false }
    public func scaleProjectionInput(_ context: ProjectionInputContext) {}
    public var largestAttentionPrefix: Int { 0 }
    public func attentionPrefix(layer: Int, item: Int) -> AttentionPrefix? { nil }
    public func replacesSublayerOutput(layer: Int, location: SublayerLocation) -> Bool { false }
    public func sublayerOutput(_ context: SublayerHookContext) { context.standardOutput() }
}

extension EncoderHooks {
    /// A sublayer's output as the encoder computes it: the hooks' where they replace it, else
    /// `LayerNorm(projected + residual)`.
    func computeSublayerOutput(_ context: SublayerHookContext) {
        if replacesSublayerOutput(layer: context.layer, location: context.location) {
            sublayerOutput(context)
        } else {
            context.standardOutput()
        }
    }
}

/// The base model alone: no hook does anything.
public struct NoEncoderHooks: EncoderHooks {
    public init() {}
}
