import QuiverTensor

/// What a sublayer keeps for backward.
enum SublayerTape {
    case standard(NormTape)
    case bottleneck(BottleneckTape)
    case fusion(FusionTape)
}

/// What one encoder layer keeps for backward; every buffer is (rows, width) in the slice's arena.
struct LayerTape {
    /// x is (rows, hidden): the layer's input.
    let x: UnsafePointer<Float>
    /// queryKeyValue is (rows, 3·hidden).
    let queryKeyValue: UnsafePointer<Float>
    /// probabilities is (items, heads, T, T): each head's (T, keyCount) softmax output, before dropout.
    let probabilities: UnsafePointer<Float>
    /// context is (rows, hidden): the heads' outputs, attention.output.dense's input.
    let context: UnsafePointer<Float>
    let attentionSublayer: SublayerTape
    /// attention is (rows, hidden): the attention sublayer's output, the feed-forward's input.
    let attention: UnsafePointer<Float>
    /// intermediate is (rows, intermediateSize), before the activation; activated after it.
    let intermediate: UnsafePointer<Float>
    let activated: UnsafePointer<Float>
    let outputSublayer: SublayerTape
    /// LoRA's `dropout(x)·Aᵀ` per projection.
    let reduced: [ProjectionSite: UnsafePointer<Float>]
}

/// One slice of a training step (whole batch items) through the encoder, forward and backward.
struct TrainingPass: @unchecked Sendable {
    let network: TrainingNetwork
    let context: SliceContext
    let items: Range<Int>
    /// Where every item of the whole batch is (padded or packed).
    let layout: SequenceLayout
    let masks: AttentionMasks
    /// The softmax temperature of each fusion site.
    let temperatures: [AdapterSite: Float]

    var config: BertConfig { network.encoder.config }
    var rows: Int { context.rows }
    var hidden: Int { context.hidden }
    var arena: TrainingArena { context.arena }
    /// The longest item of the batch: the side of each (item, head)'s attention matrix in the tape.
    var longest: Int { layout.longest }

    /// The first row of batch item `item` within the slice's buffers.
    func firstRow(of item: Int) -> Int { layout.starts[item] - context.firstRow }
}

// MARK: - Embeddings

extension TrainingPass {
    /// The embeddings' output (rows, hidden), with its dropout.
    func embed(ids: [Int32], typeIds: [Int32]) -> UnsafeMutablePointer<Float> {
        let embeddings = network.encoder.weights.embeddings
        let h = hidden
        let output = arena.take(rows * h)
        let first = context.firstRow
        for item in items {
            for (position, row) in layout.rows(of: item).enumerated() {
                let line = output + (row - first) * h
                Elementwise.add(
                    embeddings.words.readPointer + Int(ids[row]) * h,
                    embeddings.tokenTypes.readPointer + Int(typeIds[row]) * h, into: line, count: h)
                Elementwise.accumulate(embeddings.positions.readPointer + position * h, into: line, count: h)
            }
        }
        embeddings.norm.apply(output, into: output, rows: rows)
        context.dropout.mask(.embeddings, \.hidden)?.apply(output, count: rows * h, firstIndex: first * h)
        return output
    }
}

// MARK: - Layer forward

extension TrainingPass {
    /// One post-LN layer from `x` into `output` (rows, hidden); the tape points into the arena.
    func forwardLayer(_ index: Int, x: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) -> LayerTape {
        let weights = network.encoder.weights.layers[index]
        let (h, i) = (hidden, config.intermediateSize)
        var reduced: [ProjectionSite: UnsafePointer<Float>] = [:]
        func lora(_ site: ProjectionSite, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, stride: Int) {
            let key = LoRASite(layer: index, projection: site)
            guard let module = network.lora[key] else { return }
            reduced[site] = context.loraForward(module, site: key, input: input, output: output, outputStride: stride)
        }

        // Self-attention.
        let queryKeyValue = arena.take(rows * 3 * h)
        Linear.forward(
            x, weight: weights.queryKeyValue.weight.readPointer, bias: weights.queryKeyValue.bias.readPointer,
            into: queryKeyValue, rows: rows, inFeatures: h, outFeatures: 3 * h)
        lora(.query, input: x, output: queryKeyValue, stride: 3 * h)
        lora(.key, input: x, output: queryKeyValue + h, stride: 3 * h)
        lora(.value, input: x, output: queryKeyValue + 2 * h, stride: 3 * h)
        let probabilities = arena.take(items.count * config.headCount * longest * longest)
        let attentionContext = arena.take(rows * h)
        attend(index, queryKeyValue: queryKeyValue, probabilities: probabilities, output: attentionContext)
        let projected = arena.take(rows * h)
        Linear.forward(
            attentionContext, weight: weights.attentionOutput.weight.readPointer,
            bias: weights.attentionOutput.bias.readPointer, into: projected, rows: rows, inFeatures: h, outFeatures: h)
        lora(.attentionOutput, input: attentionContext, output: projected, stride: h)
        context.dropout.mask(.sublayer(layer: index, .attentionOutput), \.hidden)?
            .apply(projected, count: rows * h, firstIndex: context.firstRow * h)
        let attention = arena.take(rows * h)
        let attentionSublayer = sublayerForward(
            index, .attentionOutput, h: projected, input: x, output: attention)

        // Feed-forward.
        let intermediate = arena.take(rows * i)
        Linear.forward(
            attention, weight: weights.intermediate.weight.readPointer, bias: weights.intermediate.bias.readPointer,
            into: intermediate, rows: rows, inFeatures: h, outFeatures: i)
        lora(.intermediate, input: attention, output: intermediate, stride: i)
        let activated = arena.copy(intermediate, count: rows * i)
        network.encoder.activation.apply(activated, count: rows * i)
        let outputProjected = arena.take(rows * h)
        Linear.forward(
            activated, weight: weights.output.weight.readPointer, bias: weights.output.bias.readPointer,
            into: outputProjected, rows: rows, inFeatures: i, outFeatures: h)
        lora(.output, input: activated, output: outputProjected, stride: h)
        context.dropout.mask(.sublayer(layer: index, .output), \.hidden)?
            .apply(outputProjected, count: rows * h, firstIndex: context.firstRow * h)
        let outputSublayer = sublayerForward(index, .output, h: outputProjected, input: attention, output: output)

        return LayerTape(
            x: x, queryKeyValue: queryKeyValue, probabilities: probabilities, context: attentionContext,
            attentionSublayer: attentionSublayer, attention: attention, intermediate: intermediate,
            activated: activated, outputSublayer: outputSublayer, reduced: reduced)
    }

    private func sublayerForward(
        _ layer: Int, _ location: SublayerLocation, h: UnsafePointer<Float>, input: UnsafePointer<Float>,
        output: UnsafeMutablePointer<Float>
    ) -> SublayerTape {
        let norm = location == .attentionOutput ? network.norms[layer].attention : network.norms[layer].output
        let site = AdapterSite(layer: layer, location: location)
        switch network.sublayer(layer, location) {
        case .standard:
            let added = arena.take(rows * hidden)
            Elementwise.add(h, input, into: added, count: rows * hidden)
            return .standard(context.normForward(norm, input: added, output: output))
        case .bottleneck(let adapter, let module):
            return .bottleneck(
                context.bottleneckForward(adapter, module, site: site, h: h, input: input, norm: norm, output: output))
        case .fusion(let fusion, let layerWeights):
            return .fusion(
                context.fusionForward(
                    fusion, layerWeights, site: site, temperature: temperatures[site] ?? fusion.config.temperature,
                    h: h, input: input, norm: norm, output: output))
        }
    }

    /// context = dropout(softmax(Q·Kᵀ/√d + mask))·V for every (item, head) of the slice; the probabilities before
    /// dropout are kept. Keys after an item's last token are padding, with weight exactly 0: they are skipped.
    private func attend(
        _ layer: Int, queryKeyValue: UnsafePointer<Float>, probabilities: UnsafeMutablePointer<Float>,
        output: UnsafeMutablePointer<Float>
    ) {
        let (h, heads, d, longest) = (hidden, config.headCount, config.headDimension, longest)
        let mask = context.dropout.mask(.attentionProbabilities(layer: layer), \.attention)
        let dropped = mask == nil ? nil : arena.take(longest * longest)
        for itemInSlice in 0..<items.count {
            let item = items.lowerBound + itemInSlice
            let (t, first) = (layout.length(of: item), firstRow(of: item))
            guard t > 0 else { continue }
            let keyCount = masks.keyCounts[item]
            for head in 0..<heads {
                let base = queryKeyValue + first * 3 * h + head * d
                let p = probabilities + (itemInSlice * heads + head) * longest * longest
                // scores (t, keyCount) = Q · Kᵀ / √d
                Gemm.sgemm(
                    .normal, .transposed, m: t, n: keyCount, k: d, alpha: 1 / Float(d).squareRoot(), a: base,
                    lda: 3 * h, b: base + h, ldb: 3 * h, c: p, ldc: keyCount)
                Softmax.forward(p, into: p, rows: t, cols: keyCount, mask: masks.additive.pointer + layout.starts[item])
                var weights = UnsafePointer(p)
                if let mask, let dropped {
                    dropProbabilities(p, into: dropped, mask: mask, item: item, head: head, keyCount: keyCount)
                    weights = UnsafePointer(dropped)
                }
                // output (t, d) = P · V, rows `h` apart
                Gemm.sgemm(
                    .normal, .normal, m: t, n: d, k: keyCount, a: weights, lda: keyCount, b: base + 2 * h, ldb: 3 * h,
                    c: output + first * h + head * d, ldc: h)
            }
        }
    }

    /// The attention dropout of one (item, head): element (query, key) has index ((item·heads + head)·T + query)·T
    /// + key in the batch, T the batch's longest item.
    func dropProbabilities(
        _ probabilities: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, mask: DropoutMask, item: Int,
        head: Int, keyCount: Int
    ) {
        let (t, longest) = (layout.length(of: item), longest)
        output.update(from: probabilities, count: t * keyCount)
        mask.apply(
            output, rows: t, cols: keyCount, stride: keyCount,
            firstIndex: (item * config.headCount + head) * longest * longest, indexStride: longest)
    }
}

// MARK: - Layer backward

extension TrainingPass {
    /// Backward through layer `index` from the gradient of its output: the trainable modules' gradients, and the
    /// gradient of the layer's input when something below needs it (nil otherwise).
    func backwardLayer(_ index: Int, _ tape: LayerTape, outputGradient: UnsafePointer<Float>)
        -> UnsafeMutablePointer<Float>?
    {
        let weights = network.encoder.weights.layers[index]
        let (h, i) = (hidden, config.intermediateSize)
        func point(_ stage: LayerStage) -> TrainingPoint { TrainingPoint(layer: index, stage: stage) }
        func needs(_ stage: LayerStage) -> Bool { network.needsGradient(below: point(stage)) }
        func lora(
            _ site: ProjectionSite, input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, stride: Int,
            inputGradient: UnsafeMutablePointer<Float>?
        ) {
            let key = LoRASite(layer: index, projection: site)
            guard let module = network.lora[key], let reduced = tape.reduced[site] else { return }
            context.loraBackward(
                module, site: key, input: input, reduced: reduced, outputGradient: outputGradient,
                outputStride: stride, inputGradient: needs(LayerStage(site)) ? inputGradient : nil)
        }

        // Output sublayer.
        let outputProjectedGradient = arena.zeros(rows * h)
        let attentionGradient = arena.zeros(rows * h)
        sublayerBackward(
            index, .output, tape.outputSublayer, outputGradient: outputGradient, hGradient: outputProjectedGradient,
            inputGradient: attentionGradient, needsInputGradient: needs(.outputSublayer))
        guard needs(.outputSublayer) else { return nil }
        context.dropout.mask(.sublayer(layer: index, .output), \.hidden)?
            .apply(outputProjectedGradient, count: rows * h, firstIndex: context.firstRow * h)
        let activatedGradient = arena.take(rows * i)
        if needs(.outputProjection) {
            // ∂activated (rows, i) = ∂y (rows, h) · W_out (h, i)
            Gemm.sgemm(
                .normal, .normal, m: rows, n: i, k: h, a: outputProjectedGradient, lda: h,
                b: weights.output.weight.readPointer, ldb: i, c: activatedGradient, ldc: i)
        }
        lora(
            .output, input: tape.activated, outputGradient: outputProjectedGradient, stride: h,
            inputGradient: activatedGradient)
        guard needs(.outputProjection) else { return nil }
        let intermediateGradient = arena.zeros(rows * i)
        network.encoder.activation.backward(
            input: tape.intermediate, outputGradient: activatedGradient, inputGradient: intermediateGradient,
            count: rows * i)
        lora(
            .intermediate, input: tape.attention, outputGradient: intermediateGradient, stride: i,
            inputGradient: attentionGradient)
        guard needs(.intermediate) else { return nil }
        Gemm.sgemm(
            .normal, .normal, m: rows, n: h, k: i, a: intermediateGradient, lda: i,
            b: weights.intermediate.weight.readPointer, ldb: h, beta: 1, c: attentionGradient, ldc: h)

        // Attention sublayer.
        let projectedGradient = arena.zeros(rows * h)
        let inputGradient = arena.zeros(rows * h)
        sublayerBackward(
            index, .attentionOutput, tape.attentionSublayer, outputGradient: attentionGradient,
            hGradient: projectedGradient, inputGradient: inputGradient,
            needsInputGradient: needs(.attentionSublayer))
        guard needs(.attentionSublayer) else { return nil }
        context.dropout.mask(.sublayer(layer: index, .attentionOutput), \.hidden)?
            .apply(projectedGradient, count: rows * h, firstIndex: context.firstRow * h)
        let contextGradient = arena.take(rows * h)
        if needs(.attentionProjection) {
            Gemm.sgemm(
                .normal, .normal, m: rows, n: h, k: h, a: projectedGradient, lda: h,
                b: weights.attentionOutput.weight.readPointer, ldb: h, c: contextGradient, ldc: h)
        }
        lora(
            .attentionOutput, input: tape.context, outputGradient: projectedGradient, stride: h,
            inputGradient: contextGradient)
        guard needs(.attentionProjection) else { return nil }
        let queryKeyValueGradient = arena.zeros(rows * 3 * h)
        attendBackward(
            index, tape: tape, contextGradient: contextGradient, queryKeyValueGradient: queryKeyValueGradient)
        for site in [ProjectionSite.query, .key, .value] {
            let offset = site == .query ? 0 : site == .key ? h : 2 * h
            lora(
                site, input: tape.x, outputGradient: queryKeyValueGradient + offset, stride: 3 * h,
                inputGradient: inputGradient)
        }
        guard needs(.queryKeyValue) else { return nil }
        Gemm.sgemm(
            .normal, .normal, m: rows, n: h, k: 3 * h, a: queryKeyValueGradient, lda: 3 * h,
            b: weights.queryKeyValue.weight.readPointer, ldb: h, beta: 1, c: inputGradient, ldc: h)
        return inputGradient
    }

    private func sublayerBackward(
        _ layer: Int, _ location: SublayerLocation, _ tape: SublayerTape, outputGradient: UnsafePointer<Float>,
        hGradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>, needsInputGradient: Bool
    ) {
        let norm = location == .attentionOutput ? network.norms[layer].attention : network.norms[layer].output
        let site = AdapterSite(layer: layer, location: location)
        switch (network.sublayer(layer, location), tape) {
        case (.standard, .standard(let normTape)):
            guard needsInputGradient else { return }
            context.normBackward(norm, normTape, outputGradient: outputGradient, inputGradient: hGradient)
            Elementwise.accumulate(hGradient, into: inputGradient, count: rows * hidden)
        case (.bottleneck(let adapter, let module), .bottleneck(let bottleneckTape)):
            context.bottleneckBackward(
                adapter, module, site: site, bottleneckTape, norm: norm, outputGradient: outputGradient,
                hGradient: hGradient, inputGradient: inputGradient, needsInputGradient: needsInputGradient)
        case (.fusion(let fusion, let layerWeights), .fusion(let fusionTape)):
            context.fusionBackward(
                fusion, layerWeights, site: site, fusionTape, norm: norm, outputGradient: outputGradient,
                hGradient: hGradient, inputGradient: inputGradient, needsInputGradient: needsInputGradient)
        default:
            preconditionFailure("TrainingPass: the tape of \(site) does not match its module")
        }
    }

    /// Backward of `attend` for every (item, head): ∂V += P′ᵀ·∂O, ∂P′ = ∂O·Vᵀ, ∂P = dropout(∂P′),
    /// ∂S = softmax′(∂P), ∂Q += ∂S·K/√d, ∂K += ∂Sᵀ·Q/√d.
    private func attendBackward(
        _ layer: Int, tape: LayerTape, contextGradient: UnsafePointer<Float>,
        queryKeyValueGradient: UnsafeMutablePointer<Float>
    ) {
        let (h, heads, d, longest) = (hidden, config.headCount, config.headDimension, longest)
        let scale = 1 / Float(d).squareRoot()
        let mask = context.dropout.mask(.attentionProbabilities(layer: layer), \.attention)
        let dropped = mask == nil ? nil : arena.take(longest * longest)
        let probabilityGradient = arena.take(longest * longest)
        let scoreGradient = arena.take(longest * longest)
        for itemInSlice in 0..<items.count {
            let item = items.lowerBound + itemInSlice
            let (t, first) = (layout.length(of: item), firstRow(of: item))
            guard t > 0 else { continue }
            let keyCount = masks.keyCounts[item]
            for head in 0..<heads {
                let offset = first * 3 * h + head * d
                let (queries, keys, values) = (
                    tape.queryKeyValue + offset, tape.queryKeyValue + offset + h, tape.queryKeyValue + offset + 2 * h
                )
                let p = tape.probabilities + (itemInSlice * heads + head) * longest * longest
                var weights = p
                if let mask, let dropped {
                    dropProbabilities(p, into: dropped, mask: mask, item: item, head: head, keyCount: keyCount)
                    weights = UnsafePointer(dropped)
                }
                let outputGradient = contextGradient + first * h + head * d
                // ∂V (keyCount, d) += P′ᵀ · ∂O
                Gemm.sgemm(
                    .transposed, .normal, m: keyCount, n: d, k: t, a: weights, lda: keyCount, b: outputGradient,
                    ldb: h, beta: 1, c: queryKeyValueGradient + offset + 2 * h, ldc: 3 * h)
                // ∂P′ (t, keyCount) = ∂O · Vᵀ
                Gemm.sgemm(
                    .normal, .transposed, m: t, n: keyCount, k: d, a: outputGradient, lda: h, b: values, ldb: 3 * h,
                    c: probabilityGradient, ldc: keyCount)
                if let mask {
                    mask.apply(
                        probabilityGradient, rows: t, cols: keyCount, stride: keyCount,
                        firstIndex: (item * heads + head) * longest * longest, indexStride: longest)
                }
                scoreGradient.update(repeating: 0, count: t * keyCount)
                Softmax.backward(
                    output: p, outputGradient: probabilityGradient, inputGradient: scoreGradient, rows: t,
                    cols: keyCount)
                // ∂Q (t, d) += ∂S · K / √d;  ∂K (keyCount, d) += ∂Sᵀ · Q / √d
                Gemm.sgemm(
                    .normal, .normal, m: t, n: d, k: keyCount, alpha: scale, a: scoreGradient, lda: keyCount, b: keys,
                    ldb: 3 * h, beta: 1, c: queryKeyValueGradient + offset, ldc: 3 * h)
                Gemm.sgemm(
                    .transposed, .normal, m: keyCount, n: d, k: t, alpha: scale, a: scoreGradient, lda: keyCount,
                    b: queries, ldb: 3 * h, beta: 1, c: queryKeyValueGradient + offset + h, ldc: 3 * h)
            }
        }
    }
}
