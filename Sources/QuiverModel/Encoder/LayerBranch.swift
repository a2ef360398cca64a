import QuiverTensor

/// Where copies of a batch that run different hooks first differ, so that the work before it runs once for all of
/// them: the start of `layer`, or its output sublayer — everything of the layer up to `output.dense` shared, when
/// nothing changes the layer before `LayerNorm(projected + residual)` at `SublayerLocation.output` (a bottleneck
/// adapter or fusion at the `adapters` library's `output_adapter` alone, its default `seq_bn`).
public struct BranchPoint: Comparable, Sendable {
    public enum Stage: Int, Sendable {
        case layerStart
        case outputSublayer
    }

    public let layer: Int
    public let stage: Stage

    public init(layer: Int, stage: Stage) {
        self.layer = layer
        self.stage = stage
    }

    public static func < (a: BranchPoint, b: BranchPoint) -> Bool {
        (a.layer, a.stage.rawValue) < (b.layer, b.stage.rawValue)
    }
}

/// What a layer's output sublayer receives for every row of a batch: `output.dense`'s result and the residual (the
/// attention sublayer's output), each in the layout of the batch.
public struct OutputSublayerInputs: Sendable {
    public var projected: HiddenStates
    public var residual: HiddenStates

    public init(projected: HiddenStates, residual: HiddenStates) {
        precondition(projected.layout == residual.layout, "OutputSublayerInputs: layouts differ")
        self.projected = projected
        self.residual = residual
    }
}

extension BertEncoder {
    /// Runs layer `layer` over `states` up to its output sublayer, without hooks, and returns what that sublayer
    /// receives; `finishLayer` computes the layer's output from it (or from copies of it, one per composition).
    ///
    /// - Throws: `EncoderError.invalidLayerRange` or `.shapeMismatch` for states of another width.
    public func outputSublayerInputs(
        layer: Int, of states: HiddenStates, threads: Int = defaultThreads
    ) throws(EncoderError) -> OutputSublayerInputs {
        let rows = states.layout.rows
        let tap = OutputSublayerTap(
            layer: layer, hiddenSize: hiddenSize, projected: FloatBuffer(count: rows * hiddenSize),
            residual: FloatBuffer(count: rows * hiddenSize))
        var untouched = states  // the tap computes no output: these rows stay the layer's input
        try runLayers(layer..<(layer + 1), on: &untouched, hooks: tap, threads: threads)
        return OutputSublayerInputs(
            projected: try HiddenStates(
                layout: states.layout, hiddenSize: hiddenSize, values: tap.projected.array,
                attentionMask: states.attentionMask),
            residual: try HiddenStates(
                layout: states.layout, hiddenSize: hiddenSize, values: tap.residual.array,
                attentionMask: states.attentionMask))
    }

    /// Layer `layer`'s output from what its output sublayer receives: `LayerNorm(projected + residual)`, or what
    /// `hooks` compute in its place, row by row over the whole batch.
    ///
    /// - Throws: `EncoderError.invalidLayerRange` or `.shapeMismatch` for inputs of another width.
    public func finishLayer<Hooks: EncoderHooks>(
        _ layer: Int, from inputs: OutputSublayerInputs, hooks: Hooks, threads: Int = defaultThreads
    ) throws(EncoderError) -> HiddenStates {
        guard layer >= 0, layer < layerCount else { throw .invalidLayerRange(layer..<(layer + 1), layerCount: layerCount) }
        guard inputs.projected.hiddenSize == hiddenSize else {
            throw .shapeMismatch("sublayer inputs of width \(inputs.projected.hiddenSize) for a model of width \(hiddenSize)")
        }
        let layout = inputs.projected.layout
        guard layout.rows > 0 else { return inputs.residual }
        var output = inputs.residual  // same shape; overwritten
        var projected = inputs.projected.values  // the hooks may overwrite it
        var scratch = [Float](repeating: 0, count: hooks.scratchFloats(rows: layout.rows, config: config))
        let threading: Gemm.Threading = threads >= 2 ? .splitOutput(threads: threads) : .single
        let norm = weights.layers[layer].outputNorm
        projected.withUnsafeMutableBufferPointer { projected in
            inputs.residual.values.withUnsafeBufferPointer { residual in
                output.values.withUnsafeMutableBufferPointer { output in
                    scratch.withUnsafeMutableBufferPointer { scratch in
                        hooks.computeSublayerOutput(SublayerHookContext(
                            layer: layer, location: .output, slice: BatchSlice(items: 0..<layout.batch, layout: layout),
                            projected: projected.baseAddress!, residual: residual.baseAddress!, norm: norm,
                            output: output.baseAddress!, hiddenSize: hiddenSize, scratch: scratch, threading: threading))
                    }
                }
            }
        }
        return output
    }
}

/// Hooks that keep what one layer's output sublayer receives, instead of computing it (each slice writes its own
/// rows).
private struct OutputSublayerTap: EncoderHooks {
    let layer: Int
    let hiddenSize: Int
    /// projected and residual are (rows of the whole batch, hiddenSize).
    let projected: FloatBuffer
    let residual: FloatBuffer

    func replacesSublayerOutput(layer: Int, location: SublayerLocation) -> Bool {
        layer == self.layer && location == .output
    }

    func sublayerOutput(_ context: SublayerHookContext) {
        let offset = context.slice.firstRow * hiddenSize
        let count = context.slice.rows * hiddenSize
        (projected.pointer + offset).update(from: context.projected, count: count)
        (residual.pointer + offset).update(from: context.residual, count: count)
    }
}
