import CQuiverKernels

/// Scaled dot-product attention, `softmax(Q·Kᵀ/√d + mask) · V`, for one (batch item, head) and for all heads of a
/// batch, on top of `Gemm` and `Softmax`.
///
/// Heads are not copied out: in a BERT layer the projections are (tokens, heads·headDim) buffers — or one fused
/// (tokens, 3·hidden) buffer — and head h of item b is the column block `h·headDim ..< (h+1)·headDim` of rows
/// `b·T ..< (b+1)·T`, read through a row stride.
public enum Attention {
    // MARK: - One head

    /// Attention of one (batch item, head).
    ///
    /// `probabilities` receives the attention weights (kept for the backward pass, and useful to inspect).
    public static func scaledDotProduct(
        queries: UnsafePointer<Float>, queryStride: Int,  // queries is (queryCount, headDim), rows queryStride apart
        keys: UnsafePointer<Float>, keyStride: Int,  // keys is (keyCount, headDim)
        values: UnsafePointer<Float>, valueStride: Int,  // values is (keyCount, headDim)
        queryCount: Int, keyCount: Int, headDim: Int,
        keyMask: UnsafePointer<Float>?,  // keyMask is (keyCount), additive (0 or Softmax.maskedScore)
        probabilities: UnsafeMutablePointer<Float>,  // probabilities is (queryCount, keyCount)
        output: UnsafeMutablePointer<Float>, outputStride: Int  // output is (queryCount, headDim)
    ) {
        let scale = 1 / Float(headDim).squareRoot()
        // scores (queryCount, keyCount) = Q · Kᵀ / √d
        Gemm.sgemm(
            .normal, .transposed, m: queryCount, n: keyCount, k: headDim, alpha: scale,
            a: queries, lda: queryStride, b: keys, ldb: keyStride,
            c: probabilities, ldc: keyCount)
        Softmax.forward(probabilities, into: probabilities, rows: queryCount, cols: keyCount, mask: keyMask)
        // output (queryCount, headDim) = P · V
        Gemm.sgemm(
            .normal, .normal, m: queryCount, n: headDim, k: keyCount,
            a: probabilities, lda: keyCount, b: values, ldb: valueStride,
            c: output, ldc: outputStride)
    }

    /// `scaledDotProduct` in one call — for four query rows at a time their scores, softmax and weighted sum — for the
    /// short sequences of single requests, where three oneDNN calls per head cost more than their arithmetic.
    /// Needs AVX-512F (`isAvailable`); keeps no probabilities (inference only). Q, K and V rows are `stride` apart.
    public enum FusedHead {
        /// On the CPUs (and under the `QUIVER_MAX_CPU_ISA` limit) where `PanelProduct` runs its AVX-512 kernel.
        public static let isAvailable = PanelProduct.Kernel.best == .avx512

        /// The floats of `scratch` for `keyCount` keys of `headDim` values.
        public static func scratchCount(keyCount: Int, headDim: Int) -> Int {
            Int(quiver_attention_head_scratch(Int64(keyCount), Int64(headDim)))
        }

        public static func run(
            queries: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>, stride: Int,
            queryCount: Int, keyCount: Int, headDim: Int,
            keyMask: UnsafePointer<Float>?,  // keyMask is (keyCount), additive (0 or Softmax.maskedScore)
            output: UnsafeMutablePointer<Float>, outputStride: Int,
            scratch: UnsafeMutablePointer<Float>  // scratch holds scratchCount(keyCount:headDim:) floats
        ) {
            precondition(isAvailable, "Attention.FusedHead: this CPU has no AVX-512F")
            precondition(queryCount >= 0 && keyCount >= 0 && headDim > 0 && stride >= headDim && outputStride >= headDim)
            quiver_attention_head(
                queries, keys, values, Int64(stride), Int64(queryCount), Int64(keyCount), Int64(headDim),
                1 / Float(headDim).squareRoot(), keyMask, output, Int64(outputStride), scratch)
        }
    }

    /// Gradients of `scaledDotProduct`, accumulated into `queryGradient`, `keyGradient` and `valueGradient` (laid
    /// out like the inputs). `scratch` holds (queryCount, keyCount) floats.
    ///
    /// dV += Pᵀ·dO; dP = dO·Vᵀ; dS = softmax′(dP); dQ += dS·K/√d; dK += dSᵀ·Q/√d.
    public static func scaledDotProductBackward(
        queries: UnsafePointer<Float>, queryStride: Int,
        keys: UnsafePointer<Float>, keyStride: Int,
        values: UnsafePointer<Float>, valueStride: Int,
        queryCount: Int, keyCount: Int, headDim: Int,
        probabilities: UnsafePointer<Float>,  // probabilities is (queryCount, keyCount), from the forward pass
        outputGradient: UnsafePointer<Float>, outputGradientStride: Int,  // outputGradient is (queryCount, headDim)
        queryGradient: UnsafeMutablePointer<Float>, keyGradient: UnsafeMutablePointer<Float>,
        valueGradient: UnsafeMutablePointer<Float>,  // same shapes and strides as queries, keys, values
        scratch: UnsafeMutablePointer<Float>  // scratch is (queryCount, keyCount) × 2
    ) {
        let scale = 1 / Float(headDim).squareRoot()
        let probabilityGradient = scratch
        let scoreGradient = scratch + queryCount * keyCount
        // dV (keyCount, headDim) += Pᵀ · dO
        Gemm.sgemm(
            .transposed, .normal, m: keyCount, n: headDim, k: queryCount,
            a: probabilities, lda: keyCount, b: outputGradient, ldb: outputGradientStride,
            beta: 1, c: valueGradient, ldc: valueStride)
        // dP (queryCount, keyCount) = dO · Vᵀ
        Gemm.sgemm(
            .normal, .transposed, m: queryCount, n: keyCount, k: headDim,
            a: outputGradient, lda: outputGradientStride, b: values, ldb: valueStride,
            c: probabilityGradient, ldc: keyCount)
        scoreGradient.update(repeating: 0, count: queryCount * keyCount)
        Softmax.backward(
            output: probabilities, outputGradient: probabilityGradient, inputGradient: scoreGradient,
            rows: queryCount, cols: keyCount)
        // dQ (queryCount, headDim) += dS · K / √d
        Gemm.sgemm(
            .normal, .normal, m: queryCount, n: headDim, k: keyCount, alpha: scale,
            a: scoreGradient, lda: keyCount, b: keys, ldb: keyStride,
            beta: 1, c: queryGradient, ldc: queryStride)
        // dK (keyCount, headDim) += dSᵀ · Q / √d
        Gemm.sgemm(
            .transposed, .normal, m: keyCount, n: headDim, k: queryCount, alpha: scale,
            a: scoreGradient, lda: keyCount, b: queries, ldb: queryStride,
            beta: 1, c: keyGradient, ldc: keyStride)
    }

    // MARK: - All heads of a batch

    /// Self-attention of every (batch item, head), the items split over `threads` threads.
    ///
    /// `queries`, `keys` and `values` point at (batch·sequenceLength, heads·headDim) blocks whose rows are
    /// `inputRowStride` floats apart (heads·headDim for separate buffers, 3·heads·headDim for a fused QKV buffer).
    public static func multiHead(
        queries: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        inputRowStride: Int,
        batch: Int, sequenceLength: Int, heads: Int, headDim: Int,
        keyMask: UnsafePointer<Float>?,  // keyMask is (batch, sequenceLength), additive
        probabilities: UnsafeMutablePointer<Float>,  // probabilities is (batch, heads, sequenceLength, sequenceLength)
        output: UnsafeMutablePointer<Float>,  // output is (batch, sequenceLength, heads·headDim)
        threads: Int = 1
    ) {
        let hidden = heads * headDim
        let squareCount = sequenceLength * sequenceLength
        precondition(inputRowStride >= hidden, "Attention.multiHead: row stride \(inputRowStride) < \(hidden)")
        nonisolated(unsafe) let (queries, keys, values, keyMask) = (queries, keys, values, keyMask)
        nonisolated(unsafe) let (probabilities, output) = (probabilities, output)
        Parallel.forEachChunk(of: batch * heads, threads: threads) { items in
            for item in items {
                let (b, h) = item.quotientAndRemainder(dividingBy: heads)
                let inputOffset = b * sequenceLength * inputRowStride + h * headDim
                scaledDotProduct(
                    queries: queries + inputOffset, queryStride: inputRowStride,
                    keys: keys + inputOffset, keyStride: inputRowStride,
                    values: values + inputOffset, valueStride: inputRowStride,
                    queryCount: sequenceLength, keyCount: sequenceLength, headDim: headDim,
                    keyMask: keyMask.map { $0 + b * sequenceLength },
                    probabilities: probabilities + item * squareCount,
                    output: output + b * sequenceLength * hidden + h * headDim, outputStride: hidden)
            }
        }
    }

    // MARK: - Reference

    /// A scalar loop in Double that the fast kernel is tested against.
    public enum Reference {
        public static func scaledDotProduct(
            queries: UnsafePointer<Float>, queryStride: Int,
            keys: UnsafePointer<Float>, keyStride: Int,
            values: UnsafePointer<Float>, valueStride: Int,
            queryCount: Int, keyCount: Int, headDim: Int,
            keyMask: UnsafePointer<Float>?,
            output: UnsafeMutablePointer<Float>, outputStride: Int
        ) {
            let scale = 1 / Double(headDim).squareRoot()
            var scores = [Float](repeating: 0, count: queryCount * keyCount)
            for i in 0..<queryCount {
                for j in 0..<keyCount {
                    var dot = 0.0
                    for d in 0..<headDim {
                        dot += Double(queries[i * queryStride + d]) * Double(keys[j * keyStride + d])
                    }
                    scores[i * keyCount + j] = Float(dot * scale)
                }
            }
            var weights = [Float](repeating: 0, count: queryCount * keyCount)
            scores.withUnsafeBufferPointer { s in
                weights.withUnsafeMutableBufferPointer { w in
                    Softmax.Reference.forward(
                        s.baseAddress!, into: w.baseAddress!, rows: queryCount, cols: keyCount,
                        mask: keyMask)
                }
            }
            for i in 0..<queryCount {
                for d in 0..<headDim {
                    var sum = 0.0
                    for j in 0..<keyCount {
                        sum += Double(weights[i * keyCount + j]) * Double(values[j * valueStride + d])
                    }
                    output[i * outputStride + d] = Float(sum)
                }
            }
        }
    }
}
