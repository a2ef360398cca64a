import QuiverTensor

// Forward and backward of an AdapterFusion layer at one site (docs/fixtures-adapters.md, "Fusion"): the last
// member's pre_forward, every member's up-projection U_i, attention of the query over the U_i, the value
// projection, the residual and the last member's post_forward.
//
//     q = Wq·query + bq            K_i = Wk·U_i + bk            V_i = Wv·U_i
//     s_i = dropout(q·K_i) / T     p = softmax(s)               ctx = Σ p_i V_i (+ residual)
//
// q·K_i = (q·Wk)·U_i + q·bk is computed in that order: one (rows, hidden) product instead of one per member. The
// q·bk term is common to all members, so without dropout the softmax ignores it (and ∂/∂bk = 0); with dropout on
// the scores it is not common any more, and it is kept.

/// What a fusion site keeps for backward.
struct FusionTape {
    let pre: PreForwardTape
    /// For each member: its up-projection's tape and U_i (rows, hidden), the residual added when residual_before.
    let ups: [UpProjectionTape]
    let members: [UnsafePointer<Float>]
    let queryInput: UnsafePointer<Float>
    /// query is (rows, hidden): Wq·query + bq, or the query input.
    let query: UnsafePointer<Float>
    /// keyQuery is (rows, hidden): q·Wk, or q.
    let keyQuery: UnsafePointer<Float>
    /// probabilities is (rows, members).
    let probabilities: UnsafePointer<Float>
    /// mixed is (rows, hidden): Σ p_i U_i, the value projection's input.
    let mixed: UnsafePointer<Float>
    let postNorm: NormTape?
    let temperature: Float
}

extension SliceContext {
    func fusionForward(
        _ fusion: TrainFusion, _ layer: TrainFusionLayer, site: AdapterSite, temperature: Float,
        h: UnsafePointer<Float>, input: UnsafePointer<Float>, norm: TrainNorm, output: UnsafeMutablePointer<Float>
    ) -> FusionTape {
        let config = fusion.config
        let n = fusion.members.count
        let last = fusion.members[n - 1].config
        let pre = preForward(last, h: h, input: input, norm: norm)
        var ups: [UpProjectionTape] = []
        var members: [UnsafePointer<Float>] = []
        for member in fusion.members {
            let (up, tape) = upProjection(member.modules[site]!, member.config, x: pre.x)
            if config.residualBefore { Elementwise.accumulate(pre.residual, into: up, count: count) }
            ups.append(tape)
            members.append(UnsafePointer(up))
        }
        let queryInput = config.queryBeforeLayerNorm ? h : pre.x
        var query = queryInput
        if let projection = layer.query {
            let output = arena.take(count)
            projection.forward(queryInput, into: output, rows: rows)
            query = UnsafePointer(output)
        }
        var keyQuery = query
        let scores = arena.take(rows * n)  // scores is (rows, n)
        scores.update(repeating: 0, count: rows * n)
        if let key = layer.key {
            // keyQuery (rows, h) = q (rows, h) · Wk (h, h); the bias term q·bk per row
            let output = arena.take(count)
            Gemm.sgemm(
                .normal, .normal, m: rows, n: hidden, k: hidden, a: query, lda: hidden, b: key.weight.pointer,
                ldb: hidden, c: output, ldc: hidden)
            keyQuery = UnsafePointer(output)
            let bias = key.bias!.pointer
            for row in 0..<rows {
                let dot = dotProduct(query + row * hidden, bias, count: hidden)
                for index in 0..<n { scores[row * n + index] = dot }
            }
        }
        for row in 0..<rows {
            for index in 0..<n {
                scores[row * n + index] += dotProduct(keyQuery + row * hidden, members[index] + row * hidden, count: hidden)
            }
        }
        dropout.mask(.fusionScores(layer: site.layer, site.location), \.fusion)?
            .apply(scores, count: rows * n, firstIndex: firstRow * n)
        if temperature != 1 { Elementwise.scale(scores, by: 1 / temperature, count: rows * n) }
        Softmax.forward(scores, into: scores, rows: rows, cols: n)
        let mixed = arena.zeros(count)
        for row in 0..<rows {
            for index in 0..<n {
                axpy(scores[row * n + index], members[index] + row * hidden, into: mixed + row * hidden, count: hidden)
            }
        }
        var context = mixed
        if let value = layer.value {
            context = arena.take(count)
            Linear.forward(
                mixed, weight: value.pointer, bias: nil, into: context, rows: rows, inFeatures: hidden,
                outFeatures: hidden)
        } else {
            context = arena.copy(mixed, count: count)
        }
        if !config.residualBefore { Elementwise.accumulate(pre.residual, into: context, count: count) }
        let postNorm = postForward(last, states: context, input: input, norm: norm, output: output)
        return FusionTape(
            pre: pre, ups: ups, members: members, queryInput: queryInput, query: query, keyQuery: keyQuery,
            probabilities: scores, mixed: mixed, postNorm: postNorm, temperature: temperature)
    }

    func fusionBackward(
        _ fusion: TrainFusion, _ layer: TrainFusionLayer, site: AdapterSite, _ tape: FusionTape, norm: TrainNorm,
        outputGradient: UnsafePointer<Float>, hGradient: UnsafeMutablePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, needsInputGradient: Bool
    ) {
        let config = fusion.config
        let n = fusion.members.count
        let last = fusion.members[n - 1].config
        let contextGradient = postForwardBackward(
            tape.postNorm, norm: norm, outputGradient: outputGradient,
            inputGradient: needsInputGradient ? inputGradient : nil)
        let residualGradient = needsInputGradient ? arena.zeros(count) : nil
        let xGradient = needsInputGradient ? arena.zeros(count) : nil
        if !config.residualBefore, let residualGradient {
            Elementwise.accumulate(contextGradient, into: residualGradient, count: count)
        }
        // Value projection: ctx = mixed · Wvᵀ.
        var mixedGradient = contextGradient
        if let value = layer.value {
            let gradient = arena.zeros(count)
            Linear.backward(
                input: tape.mixed, weight: value.pointer, outputGradient: contextGradient, inputGradient: gradient,
                weightGradient: sink[value], biasGradient: nil, rows: rows, inFeatures: hidden, outFeatures: hidden)
            mixedGradient = UnsafePointer(gradient)
        }
        // mixed = Σ p_i U_i.
        let probabilityGradient = arena.take(rows * n)
        var memberGradients: [UnsafeMutablePointer<Float>] = []
        for index in 0..<n {
            let gradient = arena.take(count)
            for row in 0..<rows {
                let offset = row * hidden
                probabilityGradient[row * n + index] = dotProduct(
                    mixedGradient + offset, tape.members[index] + offset, count: hidden)
                let p = tape.probabilities[row * n + index]
                for column in 0..<hidden { gradient[offset + column] = p * mixedGradient[offset + column] }
            }
            memberGradients.append(gradient)
        }
        // Softmax, temperature and dropout: the gradient of the raw scores q·K_i.
        let scoreGradient = arena.zeros(rows * n)
        Softmax.backward(
            output: tape.probabilities, outputGradient: probabilityGradient, inputGradient: scoreGradient, rows: rows,
            cols: n)
        if tape.temperature != 1 { Elementwise.scale(scoreGradient, by: 1 / tape.temperature, count: rows * n) }
        dropout.mask(.fusionScores(layer: site.layer, site.location), \.fusion)?
            .apply(scoreGradient, count: rows * n, firstIndex: firstRow * n)
        // weighted is (rows, h): Σ_i ∂s_i · U_i; scoreSums is (rows): Σ_i ∂s_i.
        let weighted = arena.zeros(count)
        let scoreSums = arena.zeros(rows)
        for row in 0..<rows {
            for index in 0..<n {
                let g = scoreGradient[row * n + index]
                scoreSums[row] += g
                axpy(g, tape.members[index] + row * hidden, into: weighted + row * hidden, count: hidden)
                // ∂U_i += ∂s_i · keyQuery
                axpy(g, tape.keyQuery + row * hidden, into: memberGradients[index] + row * hidden, count: hidden)
            }
        }
        // Key: s_i = (q·Wk)·U_i + q·bk.
        var queryGradient = UnsafePointer(weighted)
        if let key = layer.key {
            if let weightGradient = sink[key.weight] {
                // ∂Wk (h, h) += qᵀ (h, rows) · weighted (rows, h)
                Gemm.sgemm(
                    .transposed, .normal, m: hidden, n: hidden, k: rows, a: tape.query, lda: hidden, b: weighted,
                    ldb: hidden, beta: 1, c: weightGradient, ldc: hidden)
            }
            let bias = key.bias!.pointer
            if let biasGradient = key.bias.flatMap({ sink[$0] }) {
                for row in 0..<rows { axpy(scoreSums[row], tape.query + row * hidden, into: biasGradient, count: hidden) }
            }
            // ∂q (rows, h) = weighted · Wkᵀ + scoreSums ⊗ bk
            let gradient = arena.take(count)
            Gemm.sgemm(
                .normal, .transposed, m: rows, n: hidden, k: hidden, a: weighted, lda: hidden, b: key.weight.pointer,
                ldb: hidden, c: gradient, ldc: hidden)
            for row in 0..<rows { axpy(scoreSums[row], bias, into: gradient + row * hidden, count: hidden) }
            queryGradient = UnsafePointer(gradient)
        }
        // Query: q = Wq·query + bq.
        let queryInputGradient = needsInputGradient ? (config.queryBeforeLayerNorm ? hGradient : xGradient) : nil
        if let projection = layer.query {
            projection.backward(
                input: tape.queryInput, outputGradient: queryGradient, inputGradient: queryInputGradient, rows: rows,
                sink: sink)
        } else if let queryInputGradient {
            Elementwise.accumulate(queryGradient, into: queryInputGradient, count: count)
        }
        if config.residualBefore, let residualGradient {
            for gradient in memberGradients { Elementwise.accumulate(gradient, into: residualGradient, count: count) }
        }
        // The members' up-projections, all from x.
        for (index, member) in fusion.members.enumerated() {
            let module = member.modules[site]!
            guard needsInputGradient || module.isTrainable else { continue }
            upProjectionBackward(
                module, member.config, tape.ups[index], upGradient: memberGradients[index], xGradient: xGradient)
        }
        if let xGradient, let residualGradient {
            preForwardBackward(
                last, tape.pre, norm: norm, xGradient: xGradient, residualGradient: residualGradient,
                hGradient: hGradient, inputGradient: inputGradient)
        }
    }
}

// MARK: - Small vector helpers

@inline(__always)
func dotProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
    var sum: Float = 0
    for i in 0..<count { sum += a[i] * b[i] }
    return sum
}

/// y += alpha · x.
@inline(__always)
func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { y[i] += alpha * x[i] }
}

// MARK: - Tensor names written

extension TensorNaming {
    func fusion(_ site: AdapterSite, fusion: String, _ component: String) -> String {
        "\(layer(site.layer)).\(location(site.location)).adapter_fusion_layer.\(fusion).\(component)"
    }
}
