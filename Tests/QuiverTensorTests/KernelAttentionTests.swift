import Testing

@testable import QuiverTensor

@Suite("Attention")
struct KernelAttentionTests {
    @Test("one head through strided views matches the reference")
    func oneHead() {
        // Q, K, V live in one fused (tokens, 3·hidden) buffer; this head is columns 4..<12 of each third.
        let (tokens, headDim, hidden) = (13, 8, 24)
        let stride = 3 * hidden
        let qkv = randomFloats(tokens * stride, in: -2...2, seed: 41)
        let mask = (0..<tokens).map { $0 >= 10 ? Softmax.maskedScore : 0 }
        let offset = 4
        var probabilities = [Float](repeating: 0, count: tokens * tokens)
        let outputStride = 10
        let actual = filled(tokens * outputStride) { out in
            withPointers(qkv) { base in
                Attention.scaledDotProduct(
                    queries: base + offset, queryStride: stride, keys: base + hidden + offset, keyStride: stride,
                    values: base + 2 * hidden + offset, valueStride: stride,
                    queryCount: tokens, keyCount: tokens, headDim: headDim, keyMask: mask,
                    probabilities: &probabilities, output: out, outputStride: outputStride)
            }
        }
        let expected = filled(tokens * outputStride) { out in
            withPointers(qkv) { base in
                Attention.Reference.scaledDotProduct(
                    queries: base + offset, queryStride: stride, keys: base + hidden + offset, keyStride: stride,
                    values: base + 2 * hidden + offset, valueStride: stride,
                    queryCount: tokens, keyCount: tokens, headDim: headDim, keyMask: mask,
                    output: out, outputStride: outputStride)
            }
        }
        expectClose(actual, expected, absolute: 2e-6, relative: 1e-5, "attention head")
        #expect(probabilities[10] == 0 && probabilities[12] == 0, "padded keys get no weight")
    }

    @Test("all heads of a batch, on one and two threads, match head-by-head references", arguments: [1, 2])
    func multiHead(_ threads: Int) {
        let (batch, tokens, heads, headDim) = (3, 7, 4, 5)
        let hidden = heads * headDim
        let q = randomFloats(batch * tokens * hidden, seed: 51)
        let k = randomFloats(batch * tokens * hidden, seed: 52)
        let v = randomFloats(batch * tokens * hidden, seed: 53)
        let lengths = [7, 4, 1]
        let mask = (0..<(batch * tokens)).map { $0 % tokens < lengths[$0 / tokens] ? Float(0) : Softmax.maskedScore }
        var probabilities = [Float](repeating: 0, count: batch * heads * tokens * tokens)
        let actual = filled(batch * tokens * hidden) { out in
            Attention.multiHead(
                queries: q, keys: k, values: v, inputRowStride: hidden, batch: batch,
                sequenceLength: tokens, heads: heads, headDim: headDim, keyMask: mask,
                probabilities: &probabilities, output: out, threads: threads)
        }
        let expected = filled(batch * tokens * hidden) { out in
            for b in 0..<batch {
                for h in 0..<heads {
                    let offset = b * tokens * hidden + h * headDim
                    withPointers(q) { q in
                        withPointers(k) { k in
                            withPointers(v) { v in
                                withPointers(mask) { m in
                                    Attention.Reference.scaledDotProduct(
                                        queries: q + offset, queryStride: hidden, keys: k + offset, keyStride: hidden,
                                        values: v + offset, valueStride: hidden, queryCount: tokens, keyCount: tokens,
                                        headDim: headDim, keyMask: m + b * tokens, output: out + offset,
                                        outputStride: hidden)
                                }
                            }
                        }
                    }
                }
            }
        }
        expectClose(actual, expected, absolute: 2e-6, relative: 1e-5, "multi-head, \(threads) threads")
    }

    @Test("backward matches finite differences for queries, keys and values")
    func backward() {
        let (tokens, headDim) = (5, 4)
        let q = randomFloats(tokens * headDim, seed: 61)
        let k = randomFloats(tokens * headDim, seed: 62)
        let v = randomFloats(tokens * headDim, seed: 63)
        let mask: [Float] = [0, 0, 0, 0, Softmax.maskedScore]
        let weights = randomFloats(tokens * headDim, seed: 64)
        func forward(_ q: [Float], _ k: [Float], _ v: [Float]) -> [Float] {
            filled(tokens * headDim) { out in
                Attention.Reference.scaledDotProduct(
                    queries: q, queryStride: headDim, keys: k, keyStride: headDim, values: v, valueStride: headDim,
                    queryCount: tokens, keyCount: tokens, headDim: headDim, keyMask: mask,
                    output: out, outputStride: headDim)
            }
        }
        var probabilities = [Float](repeating: 0, count: tokens * tokens)
        _ = filled(tokens * headDim) { out in
            Attention.scaledDotProduct(
                queries: q, queryStride: headDim, keys: k, keyStride: headDim, values: v, valueStride: headDim,
                queryCount: tokens, keyCount: tokens, headDim: headDim, keyMask: mask,
                probabilities: &probabilities, output: out, outputStride: headDim)
        }
        var dq = [Float](repeating: 0, count: q.count)
        var dk = dq
        var dv = dq
        var scratch = [Float](repeating: 0, count: 2 * tokens * tokens)
        Attention.scaledDotProductBackward(
            queries: q, queryStride: headDim, keys: k, keyStride: headDim, values: v, valueStride: headDim,
            queryCount: tokens, keyCount: tokens, headDim: headDim, probabilities: probabilities,
            outputGradient: weights, outputGradientStride: headDim,
            queryGradient: &dq, keyGradient: &dk, valueGradient: &dv, scratch: &scratch)
        expectClose(
            dq, numericalGradient(of: { forward($0, k, v) }, at: q, weights: weights), absolute: 1e-3,
            relative: 2e-3, "dQ")
        expectClose(
            dk, numericalGradient(of: { forward(q, $0, v) }, at: k, weights: weights), absolute: 1e-3,
            relative: 2e-3, "dK")
        expectClose(
            dv, numericalGradient(of: { forward(q, k, $0) }, at: v, weights: weights), absolute: 1e-3,
            relative: 2e-3, "dV")
    }
}

/// `Attention.FusedHead` against the Double reference: lengths around its 16-key vectors and 64-key blocks, head
/// sizes around its 16- and 128-value blocks, fewer keys than queries (trailing padding skipped), masks.
@Suite struct KernelFusedAttentionTests {
    @Test(arguments: [
        (queries: 1, keys: 1, headDim: 32), (queries: 16, keys: 16, headDim: 32), (queries: 9, keys: 9, headDim: 64),
        (queries: 17, keys: 12, headDim: 17), (queries: 70, keys: 65, headDim: 130), (queries: 5, keys: 3, headDim: 1),
        (queries: 128, keys: 128, headDim: 64),
    ])
    func matchesTheReference(queries: Int, keys: Int, headDim: Int) throws {
        guard Attention.FusedHead.isAvailable else {
            #expect(!(try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)).contains(" avx512f"))
            return
        }
        // Q, K and V side by side in rows of a (rows, 3 · headDim + 2) buffer, as in a fused projection.
        let stride = 3 * headDim + 2
        let qkv = randomFloats(max(queries, keys) * stride, in: -2...2, seed: UInt64(queries * 131 + headDim))
        let outputStride = headDim + 3
        let masks: [[Float]?] = [
            nil, (0..<keys).map { $0 % 3 == 1 ? Softmax.maskedScore : 0 },
            [Float](repeating: Softmax.maskedScore, count: keys),
        ]
        for mask in masks {
            var scratch = [Float](repeating: .nan, count: Attention.FusedHead.scratchCount(keyCount: keys, headDim: headDim))
            var actual = [Float](repeating: .nan, count: queries * outputStride)
            var expected = actual
            qkv.withUnsafeBufferPointer { qkv in
                let base = qkv.baseAddress!
                Attention.FusedHead.run(
                    queries: base, keys: base + headDim, values: base + 2 * headDim, stride: stride,
                    queryCount: queries, keyCount: keys, headDim: headDim, keyMask: mask, output: &actual,
                    outputStride: outputStride, scratch: &scratch)
                Attention.Reference.scaledDotProduct(
                    queries: base, queryStride: stride, keys: base + headDim, keyStride: stride,
                    values: base + 2 * headDim, valueStride: stride, queryCount: queries, keyCount: keys,
                    headDim: headDim, keyMask: mask, output: &expected, outputStride: outputStride)
            }
            // Columns past headDim stay untouched (NaN in both).
            expectClose(actual, expected, absolute: 2e-6, relative: 1e-5, "fused head, mask \(mask == nil ? "none" : "some")")
        }
    }
}
