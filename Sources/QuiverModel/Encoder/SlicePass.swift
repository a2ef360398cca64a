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
    /// The whole batch's masks (indexed by batch item, not by item of the slice).
    let masks: AttentionMasks
    let buffers: SliceBuffers
    let threading: Gemm.Threading
    let headThreads: Int
    let elementwiseKernels: ElementwiseKernels

    var rows: Int { slice.rows }
    var hiddenSize: Int { config.hiddenSize }
    var scratch: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: buffers.hookScratch.pointer, count: buffers.hookScratchCount)
    }
}

// MARK: - Embeddings

extension SlicePass {
    /// hidden = LayerNorm(words[id] + tokenTypes[type] + positions[position]) for every row of the slice (ids
    /// already checked against the tables); positions count from each item's first row.
    func embed(ids: UnsafePointer<Int32>, typeIds: UnsafePointer<Int32>) {
        let embeddings = weights.embeddings
        let h = hiddenSize
        for item in slice.items {
            let itemRows = slice.rows(ofItem: item)
            for (position, row) in itemRows.enumerated() {
                let output = hidden + row * h
                // The order of transformers' BertEmbeddings: (words + token types) + positions.
                Elementwise.add(
                    embeddings.words.readPointer + Int(ids[row]) * h,
                    embeddings.tokenTypes.readPointer + Int(typeIds[row]) * h, into: output, count: h)
                Elementwise.accumulate(embeddings.positions.readPointer + position * h, into: output, count: h)
            }
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
    /// with the hooks before and after each projection, in the attention (prefixes) and in place of each
    /// `LayerNorm(… + residual)`.
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
        projectQueryKeyValue(index, layer.queryKeyValue, input: x, output: queryKeyValue)
        addProjectionDelta(index, .query, input: x, inFeatures: h, output: queryKeyValue, stride: 3 * h)
        addProjectionDelta(index, .key, input: x, inFeatures: h, output: queryKeyValue + h, stride: 3 * h)
        addProjectionDelta(index, .value, input: x, inFeatures: h, output: queryKeyValue + 2 * h, stride: 3 * h)
        attend(layer: index, queryKeyValue: queryKeyValue, into: context)

        scaleInputInPlace(index, .attentionOutput, context, inFeatures: h)  // context is read by nothing else
        project(layer.attentionOutput, input: context, output: projected)
        addProjectionDelta(index, .attentionOutput, input: context, inFeatures: h, output: projected, stride: h)
        sublayer(
            index, .attentionOutput, projected: projected, residual: x, norm: layer.attentionNorm,
            output: attentionOutput)

        // MARK: Feed-forward
        let i = config.intermediateSize
        var intermediateInput = UnsafePointer(attentionOutput)
        if hooks.scalesProjectionInput(layer: index, site: .intermediate) {
            // attentionOutput is the residual of the output sublayer: scale a copy, in `projected` (free until
            // output.dense writes it).
            projected.update(from: attentionOutput, count: rows * h)
            scaleInputInPlace(index, .intermediate, projected, inFeatures: h)
            intermediateInput = UnsafePointer(projected)
        }
        project(layer.intermediate, input: intermediateInput, output: intermediate)
        addProjectionDelta(index, .intermediate, input: intermediateInput, inFeatures: h, output: intermediate, stride: i)
        activate(intermediate, count: rows * i)

        scaleInputInPlace(index, .output, intermediate, inFeatures: i)  // intermediate is read by nothing else
        project(layer.output, input: intermediate, output: projected)
        addProjectionDelta(index, .output, input: intermediate, inFeatures: i, output: projected, stride: h)
        sublayer(index, .output, projected: projected, residual: attentionOutput, norm: layer.outputNorm, output: x)
    }

    /// The feed-forward activation in place, with oneDNN's GELU when it is chosen and available; split between the
    /// threads that share the slice's attention heads.
    private func activate(_ x: UnsafeMutablePointer<Float>, count: Int) {
        nonisolated(unsafe) let x = x
        let pass = self
        Parallel.forEachChunk(of: count, threads: headThreads) { thread, elements in
            let piece = x + elements.lowerBound
            if pass.activation == .gelu, pass.elementwiseKernels == .oneDNN,
               let primitive = pass.buffers.kernels[thread].primitive(.geluErf(count: elements.count))
            {
                primitive.run(piece)
            } else {
                pass.activation.apply(piece, count: elements.count)
            }
        }
    }

    /// output (rows, out) = input (rows, in) · Wᵀ + b.
    ///
    /// The product reads the weights packed once (`PackedLinear`); where they are not (no AVX2), a product over few
    /// rows is computed transposed, outputᵀ (out, rows) = W · inputᵀ, then transposed back: oneDNN then streams the weights
    /// as the large operand and never packs them (1.3–1.4× faster at 16 rows on AVX2; docs/encoder.md).
    private func project(_ linear: LinearWeights, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let (k, n) = (linear.inFeatures, linear.outFeatures)
        if let packed = linear.packedCopy.packed(linear) {
            packed.multiply(input, rows: rows, bias: linear.bias.readPointer, into: output, ldOutput: n, threading: threading)
            return
        }
        guard rows <= SliceBuffers.transposedProductRowLimit else {
            Linear.forward(
                input, weight: linear.weight.readPointer, bias: linear.bias.readPointer, into: output, rows: rows,
                inFeatures: k, outFeatures: n, threading: threading)
            return
        }
        // transposed (n, rows) = W (n, k) · inputᵀ (k, rows)
        let scratch = buffers.productScratch.pointer
        Gemm.sgemm(
            .normal, .transposed, m: n, n: rows, k: k, a: linear.weight.readPointer, lda: k, b: input, ldb: k,
            c: scratch, ldc: rows, threading: threading)
        // output[row, column] = transposed[column, row] + bias[column]: reads in order, and the few output rows
        // being written stay in cache from one column to the next.
        let bias = linear.bias.readPointer
        for column in 0..<n {
            let source = scratch + column * rows
            let value = bias[column]
            for row in 0..<rows { output[row * n + column] = source[row] + value }
        }
    }

    /// queryKeyValue (rows, 3h) = x · [W_q; W_k; W_v]ᵀ + b in one product — or block by block when a hook scales
    /// the input of query, key or value: each such block reads its own scaled copy of x (in `context`, free until
    /// the attention writes it).
    private func projectQueryKeyValue(
        _ layer: Int, _ linear: LinearWeights, input x: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>
    ) {
        let scalesQuery = hooks.scalesProjectionInput(layer: layer, site: .query)
        let scalesKey = hooks.scalesProjectionInput(layer: layer, site: .key)
        let scalesValue = hooks.scalesProjectionInput(layer: layer, site: .value)
        guard scalesQuery || scalesKey || scalesValue else { return project(linear, input: x, output: output) }
        let scales = [scalesQuery, scalesKey, scalesValue]
        let h = hiddenSize
        for (block, site) in [ProjectionSite.query, .key, .value].enumerated() {
            var input = x
            if scales[block] {
                let copy = buffers.context.pointer
                copy.update(from: x, count: rows * h)
                scaleInputInPlace(layer, site, copy, inFeatures: h)
                input = UnsafePointer(copy)
            }
            // output[:, block] (rows, h), rows 3h apart = input · W[block rows]ᵀ + b[block]
            Gemm.sgemm(
                .normal, .transposed, m: rows, n: h, k: h, a: input, lda: h, b: linear.weight.readPointer + block * h * h,
                ldb: h, c: output + block * h, ldc: 3 * h, threading: threading)
            let bias = linear.bias.readPointer + block * h
            for row in 0..<rows { Elementwise.accumulate(bias, into: output + row * 3 * h + block * h, count: h) }
        }
    }

    /// Lets the hooks scale a projection's input rows, when they do at this site; `input` must be private to it.
    private func scaleInputInPlace(_ layer: Int, _ site: ProjectionSite, _ input: UnsafeMutablePointer<Float>, inFeatures: Int) {
        guard hooks.scalesProjectionInput(layer: layer, site: site) else { return }
        hooks.scaleProjectionInput(
            ProjectionInputContext(layer: layer, site: site, slice: slice, input: input, inFeatures: inFeatures))
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
        hooks.computeSublayerOutput(SublayerHookContext(
            layer: layer, location: location, slice: slice, projected: projected, residual: residual, norm: norm,
            output: output, hiddenSize: hiddenSize, scratch: scratch, threading: threading))
    }
}

// MARK: - Attention

extension SlicePass {
    /// context = softmax(Q·Kᵀ/√d + mask)·V for every (item, head) of the slice, heads read in place from the
    /// (rows, 3·hidden) projection. Keys after an item's last token are padding, whose weight is exactly 0: they
    /// are skipped. Padded query rows are computed like the others (transformers computes them too). An item with
    /// a prefix from the hooks attends to the prefix's keys and values first (mask 0), then to its own.
    func attend(layer: Int, queryKeyValue: UnsafePointer<Float>, into context: UnsafeMutablePointer<Float>) {
        let h = hiddenSize
        let heads = config.headCount
        let headDim = config.headDimension
        let itemCount = slice.items.count
        // Without prefixes (always, for hooks that add none) nothing is asked and nothing is allocated.
        let prefixes: [AttentionPrefix?] =
            hooks.largestAttentionPrefix == 0
            ? [] : slice.items.map { hooks.attentionPrefix(layer: layer, item: $0) }
        nonisolated(unsafe) let (queryKeyValue, context) = (queryKeyValue, context)
        let pass = self
        Parallel.forEachChunk(of: itemCount * heads, threads: headThreads) { thread, units in
            // One score matrix per thread.
            let scratch = AttentionScratch(buffers: pass.buffers, thread: thread)
            for unit in units {
                let (itemInSlice, head) = unit.quotientAndRemainder(dividingBy: heads)
                let item = pass.slice.items.lowerBound + itemInSlice
                let firstRow = pass.slice.rows(ofItem: item).lowerBound
                guard pass.slice.layout.length(of: item) > 0 else { continue }
                let base = queryKeyValue + firstRow * 3 * h + head * headDim
                let output = context + firstRow * h + head * headDim
                if let prefix = prefixes.isEmpty ? nil : prefixes[itemInSlice] {
                    pass.attendOneHeadWithPrefix(
                        prefix, head: head, queries: base, keys: base + h, values: base + 2 * h, stride: 3 * h,
                        item: item, scratch: scratch, output: output)
                } else {
                    pass.attendOneHead(
                        queries: base, keys: base + h, values: base + 2 * h, stride: 3 * h, item: item,
                        probabilities: scratch.probabilities, kernels: scratch.kernels, output: output)
                }
            }
        }
    }

    /// One thread's scratch for the attention.
    struct AttentionScratch {
        /// probabilities is (t, prefix + t).
        let probabilities: UnsafeMutablePointer<Float>
        /// mask is (prefix + t): the additive mask of a prefixed item's keys.
        let mask: UnsafeMutablePointer<Float>
        let kernels: DNNLKernels

        init(buffers: SliceBuffers, thread: Int) {
            let t = buffers.sequenceLength, prefix = buffers.attentionPrefix
            probabilities = buffers.scores.pointer + thread * buffers.scoresPerThread
            mask = buffers.prefixMask.pointer + thread * (prefix + t)
            kernels = buffers.kernels[thread]
        }
    }

    /// softmax(Q·Kᵀ/√d + mask)·V of one (item, head), over the item's first `keyCounts[item]` keys; `item` is numbered
    /// in the whole batch. On AVX-512 in one call (`Attention.FusedHead`), else a product, a softmax and a product.
    private func attendOneHead(
        queries: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int,
        item: Int, probabilities: UnsafeMutablePointer<Float>, kernels: DNNLKernels,
        output: UnsafeMutablePointer<Float>
    ) {
        let t = slice.layout.length(of: item)
        let keyCount = masks.keyCounts[item]
        let headDim = config.headDimension
        if elementwiseKernels == .oneDNN, Attention.FusedHead.isAvailable {
            Attention.FusedHead.run(
                queries: queries, keys: keys, values: values, stride: stride, queryCount: t, keyCount: keyCount,
                headDim: headDim,
                keyMask: masks.keysUnmasked[item] ? nil : masks.additive.pointer + slice.layout.starts[item],
                output: output, outputStride: hiddenSize, scratch: probabilities)
            return
        }
        // scores (t, keyCount) = Q · Kᵀ / √d
        Gemm.sgemm(
            .normal, .transposed, m: t, n: keyCount, k: headDim, alpha: 1 / Float(headDim).squareRoot(),
            a: queries, lda: stride, b: keys, ldb: stride, c: probabilities, ldc: keyCount)
        if masks.keysUnmasked[item], elementwiseKernels == .oneDNN,
            let softmax = kernels.primitive(.softmax(rows: t, cols: keyCount))
        {
            softmax.run(probabilities)
        } else {
            Softmax.forward(
                probabilities, into: probabilities, rows: t, cols: keyCount, mask: masks.additive.pointer + slice.layout.starts[item])
        }
        // output (t, headDim) = P · V, rows `hiddenSize` apart
        Gemm.sgemm(
            .normal, .normal, m: t, n: headDim, k: keyCount, a: probabilities, lda: keyCount, b: values, ldb: stride,
            c: output, ldc: hiddenSize)
    }

    /// `attendOneHead` with `prefix.length` keys and values in front of the item's own: the scores are
    /// (t, P + keyCount), the prefix's columns first and never masked.
    private func attendOneHeadWithPrefix(
        _ prefix: AttentionPrefix, head: Int, queries: UnsafePointer<Float>, keys: UnsafePointer<Float>,
        values: UnsafePointer<Float>, stride: Int, item: Int, scratch: AttentionScratch,
        output: UnsafeMutablePointer<Float>
    ) {
        let t = slice.layout.length(of: item)
        let keyCount = masks.keyCounts[item]
        let (headDim, h) = (config.headDimension, hiddenSize)
        let p = prefix.length
        let columns = p + keyCount
        precondition(p <= buffers.attentionPrefix && prefix.keys.count == p * h, "attention prefix beyond the hooks' largestAttentionPrefix")
        let probabilities = scratch.probabilities
        let scale = 1 / Float(headDim).squareRoot()
        // scores[:, 0..<P] (t, P) = Q · Pkᵀ / √d; the prefix's heads are side by side like the projection's
        Gemm.sgemm(
            .normal, .transposed, m: t, n: p, k: headDim, alpha: scale, a: queries, lda: stride,
            b: prefix.keys.readPointer + head * headDim, ldb: h, c: probabilities, ldc: columns)
        // scores[:, P...] (t, keyCount) = Q · Kᵀ / √d
        Gemm.sgemm(
            .normal, .transposed, m: t, n: keyCount, k: headDim, alpha: scale, a: queries, lda: stride, b: keys,
            ldb: stride, c: probabilities + p, ldc: columns)
        if masks.keysUnmasked[item], elementwiseKernels == .oneDNN,
            let softmax = scratch.kernels.primitive(.softmax(rows: t, cols: columns))
        {
            softmax.run(probabilities)
        } else {
            scratch.mask.initialize(repeating: 0, count: p)
            (scratch.mask + p).update(from: masks.additive.pointer + slice.layout.starts[item], count: keyCount)
            Softmax.forward(probabilities, into: probabilities, rows: t, cols: columns, mask: scratch.mask)
        }
        // output (t, headDim) = P[:, 0..<P] · Pv + P[:, P...] · V, rows `hiddenSize` apart
        Gemm.sgemm(
            .normal, .normal, m: t, n: headDim, k: p, a: probabilities, lda: columns,
            b: prefix.values.readPointer + head * headDim, ldb: h, c: output, ldc: h)
        Gemm.sgemm(
            .normal, .normal, m: t, n: headDim, k: keyCount, a: probabilities + p, lda: columns, b: values, ldb: stride,
            beta: 1, c: output, ldc: h)
    }
}
