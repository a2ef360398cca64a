import QuiverStore
import QuiverTensor

/// One slice of a forward pass — whole batch items — and everything its layers read and write, as pointers.
///
/// A slice runs on one thread (or, for a single item, shares its products and heads between threads); two slices
/// touch disjoint rows, which is why this may be `@unchecked Sendable`.
struct SlicePass<Hooks: EncoderHooks>: @unchecked Sendable {
    let config: BertConfig
    let weights: BertEncoderWeights
    let activation: HiddenActivation
    let hooks: Hooks
    let slice: BatchSlice
    /// hidden is (slice.rows, hidden): the slice's rows of the caller's hidden states, updated in place.
    let hidden: UnsafeMutablePointer<Float>
    /// additiveMask is (slice.items.count, sequenceLength): 0 for tokens, `Softmax.maskedScore` for padding.
    let additiveMask: UnsafePointer<Float>
    /// keyCounts is (slice.items.count): keys up to the last token of each item; the rest are padding and
    /// skipped.
    let keyCounts: UnsafePointer<Int>
    let buffers: SliceBuffers
    let threading: Gemm.Threading
    let headThreads: Int

    var rows: Int { slice.rows }
    var hiddenSize: Int { config.hiddenSize }
    var scratch: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: buffers.hookScratch.pointer, count: buffers.hookScratchCount)
    }
}

// MARK: - Embeddings

extension SlicePass {
    /// hidden = LayerNorm(words[id] + tokenTypes[type] + positions[position]) for every row of the slice (ids
    /// already checked against the tables).
    func embed(ids: UnsafePointer<Int32>, typeIds: UnsafePointer<Int32>) {
        let embeddings = weights.embeddings
        let h = hiddenSize
        for row in 0..<rows {
            let output = hidden + row * h
            let position = row % slice.sequenceLength
            // The order of transformers' BertEmbeddings: (words + token types) + positions.
            Elementwise.add(
                embeddings.words.readPointer + Int(ids[row]) * h,
                embeddings.tokenTypes.readPointer + Int(typeIds[row]) * h, into: output, count: h)
            Elementwise.accumulate(embeddings.positions.readPointer + position * h, into: output, count: h)
        }
        embeddings.norm.apply(hidden, into: hidden, rows: rows)
    }
}

// MARK: - Layer

extension SlicePass {
    /// One post-LN transformer layer over the slice's hidden states, in place:
    ///
    ///     a = LayerNorm(Attention(x)·W_oᵀ + b_o + x)
    ///     x = LayerNorm(act(a·W_iᵀ + b_i)·W_o2ᵀ + b_o2 + a)
    ///
    /// with the hooks after each projection and in place of each `LayerNorm(… + residual)`.
    func runLayer(_ index: Int) {
        let layer = weights.layers[index]
        let h = hiddenSize
        let x = hidden  // x is (rows, h)
        let queryKeyValue = buffers.queryKeyValue.pointer  // (rows, 3h)
        let context = buffers.context.pointer  // (rows, h)
        let projected = buffers.projected.pointer  // (rows, h)
        let attentionOutput = buffers.queryKeyValue.pointer  // (rows, h), once the attention has read Q, K, V
        let intermediate = buffers.intermediate.pointer  // (rows, intermediateSize)

        // MARK: Self-attention
        project(layer.queryKeyValue, input: x, output: queryKeyValue)
        addProjectionDelta(index, .query, input: x, inFeatures: h, output: queryKeyValue, stride: 3 * h)
        addProjectionDelta(index, .key, input: x, inFeatures: h, output: queryKeyValue + h, stride: 3 * h)
        addProjectionDelta(index, .value, input: x, inFeatures: h, output: queryKeyValue + 2 * h, stride: 3 * h)
        attend(queryKeyValue: queryKeyValue, into: context)

        project(layer.attentionOutput, input: context, output: projected)
        addProjectionDelta(index, .attentionOutput, input: context, inFeatures: h, output: projected, stride: h)
        sublayer(
            index, .attentionOutput, projected: projected, residual: x, norm: layer.attentionNorm,
            output: attentionOutput)

        // MARK: Feed-forward
        let i = config.intermediateSize
        project(layer.intermediate, input: attentionOutput, output: intermediate)
        addProjectionDelta(index, .intermediate, input: attentionOutput, inFeatures: h, output: intermediate, stride: i)
        activation.apply(intermediate, count: rows * i)

        project(layer.output, input: intermediate, output: projected)
        addProjectionDelta(index, .output, input: intermediate, inFeatures: i, output: projected, stride: h)
        sublayer(index, .output, projected: projected, residual: attentionOutput, norm: layer.outputNorm, output: x)
    }

    /// output (rows, out) = input (rows, in) · Wᵀ + b.
    private func project(_ linear: LinearWeights, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        Linear.forward(
            input, weight: linear.weight.readPointer, bias: linear.bias.readPointer, into: output, rows: rows,
            inFeatures: linear.inFeatures, outFeatures: linear.outFeatures, threading: threading)
    }

    private func addProjectionDelta(
        _ layer: Int, _ site: ProjectionSite, input: UnsafePointer<Float>, inFeatures: Int,
        output: UnsafeMutablePointer<Float>, stride: Int
    ) {
        let outFeatures = site == .intermediate ? config.intermediateSize : hiddenSize
        hooks.addProjectionDelta(
            ProjectionHookContext(
                layer: layer, site: site, slice: slice, input: input, inFeatures: inFeatures, output: output,
                outFeatures: outFeatures, outputStride: stride, scratch: scratch, threading: threading))
    }

    /// output = LayerNorm(projected + residual), or what the hooks compute instead.
    private func sublayer(
        _ layer: Int, _ location: SublayerLocation, projected: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>, norm: LayerNormWeights, output: UnsafeMutablePointer<Float>
    ) {
        let context = SublayerHookContext(
            layer: layer, location: location, slice: slice, projected: projected, residual: residual, norm: norm,
            output: output, hiddenSize: hiddenSize, scratch: scratch, threading: threading)
        if hooks.replacesSublayerOutput(layer: layer, location: location) {
            hooks.sublayerOutput(context)
        } else {
            context.standardOutput()
        }
    }
}

// MARK: - Attention

extension SlicePass {
    /// context = softmax(Q·Kᵀ/√d + mask)·V for every (item, head) of the slice, heads read in place from the
    /// (rows, 3·hidden) projection. Keys after an item's last token are padding, whose weight is exactly 0: they
    /// are skipped. Padded query rows are computed like the others (transformers computes them too).
    func attend(queryKeyValue: UnsafePointer<Float>, into context: UnsafeMutablePointer<Float>) {
        let h = hiddenSize
        let heads = config.headCount
        let headDim = config.headDimension
        let t = slice.sequenceLength
        let itemCount = slice.items.count
        nonisolated(unsafe) let (queryKeyValue, context) = (queryKeyValue, context)
        let pass = self
        Parallel.forEachChunk(of: itemCount * heads, threads: headThreads) { units in
            // One (t, t) score matrix per thread: the chunk index is known from the range's start.
            let thread =
                pass.headThreads == 1 ? 0 : Self.chunkIndex(of: units, count: itemCount * heads, threads: pass.headThreads)
            let probabilities = pass.buffers.scores.pointer + thread * t * t
            for unit in units {
                let (item, head) = unit.quotientAndRemainder(dividingBy: heads)
                let keyCount = pass.keyCounts[item]
                let base = queryKeyValue + item * t * 3 * h + head * headDim
                Attention.scaledDotProduct(
                    queries: base, queryStride: 3 * h,
                    keys: base + h, keyStride: 3 * h,
                    values: base + 2 * h, valueStride: 3 * h,
                    queryCount: t, keyCount: keyCount, headDim: headDim,
                    keyMask: pass.additiveMask + item * t,
                    probabilities: probabilities,
                    output: context + item * t * h + head * headDim, outputStride: h)
            }
        }
    }

    /// The index of the chunk `Parallel.forEachChunk` gave as `range`.
    private static func chunkIndex(of range: Range<Int>, count: Int, threads: Int) -> Int {
        let chunks = min(threads, count)
        for chunk in 0..<chunks where Parallel.chunkRange(chunk, of: chunks, count: count) == range { return chunk }
        preconditionFailure("SlicePass: \(range) is not a chunk of \(count)")
    }
}
