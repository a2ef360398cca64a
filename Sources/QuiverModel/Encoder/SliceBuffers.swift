import Foundation
import QuiverTensor

/// The scratch buffers of one worker of a forward pass, for slices of up to `rows` rows (the hidden states live in
/// the caller's `HiddenStates`).
final class SliceBuffers: @unchecked Sendable {
    let rows: Int
    /// The longest item the attention buffers hold.
    let sequenceLength: Int
    let headThreads: Int
    /// The most key/value positions a hook puts in front of an item's keys (prefix tuning); 0 for none.
    let attentionPrefix: Int
    let hookScratchCount: Int
    /// queryKeyValue is (rows, 3·hidden); after the attention its first rows·hidden floats hold the attention
    /// sublayer's output, (rows, hidden).
    let queryKeyValue: FloatBuffer
    /// context is (rows, hidden): the heads' attention outputs side by side.
    let context: FloatBuffer
    /// projected is (rows, hidden): the output of attention.output.dense, later of output.dense.
    let projected: FloatBuffer
    /// intermediate is (rows, intermediateSize).
    let intermediate: FloatBuffer
    /// scores is (headThreads, `scoresPerThread`): per thread one (sequenceLength, attentionPrefix + sequenceLength)
    /// attention matrix, or the scratch of `Attention.FusedHead`.
    let scores: FloatBuffer
    let scoresPerThread: Int
    /// prefixMask is (headThreads, attentionPrefix + sequenceLength): a prefixed item's additive mask, per thread.
    let prefixMask: FloatBuffer
    /// hookScratch is what `EncoderHooks.scratchFloats` asked for.
    let hookScratch: FloatBuffer
    /// oneDNN primitives, one set per thread working on the slice (they keep their shapes between passes).
    let kernels: [DNNLKernels]
    /// productScratch is (max(3·hidden, intermediateSize), min(rows, `transposedProductRowLimit`)): the transposed
    /// output of a product over few rows, where the weights are not packed (a CPU without AVX2).
    let productScratch: FloatBuffer

    /// The most rows for which products are computed transposed.
    static let transposedProductRowLimit = 64

    init(
        rows: Int, sequenceLength: Int, headThreads: Int, hidden: Int, intermediateSize: Int, hookScratch: Int,
        attentionPrefix: Int = 0
    ) {
        self.rows = rows
        self.sequenceLength = sequenceLength
        self.headThreads = headThreads
        self.attentionPrefix = attentionPrefix
        self.hookScratchCount = hookScratch
        queryKeyValue = FloatBuffer(count: rows * 3 * hidden)
        context = FloatBuffer(count: rows * hidden)
        projected = FloatBuffer(count: rows * hidden)
        intermediate = FloatBuffer(count: rows * intermediateSize)
        // The hidden size bounds a head's size.
        scoresPerThread = max(
            sequenceLength * (attentionPrefix + sequenceLength),
            Attention.FusedHead.scratchCount(keyCount: sequenceLength, headDim: hidden))
        scores = FloatBuffer(count: headThreads * scoresPerThread)
        prefixMask = FloatBuffer(count: attentionPrefix > 0 ? headThreads * (attentionPrefix + sequenceLength) : 0)
        self.hookScratch = FloatBuffer(count: hookScratch)
        kernels = (0..<headThreads).map { _ in DNNLKernels() }
        productScratch = FloatBuffer(
            count: PanelProduct.isAvailable ? 0 : max(3 * hidden, intermediateSize) * min(rows, Self.transposedProductRowLimit))
    }

    /// Whether these buffers serve a slice of `rows` rows of length `sequenceLength`.
    func fits(rows: Int, sequenceLength: Int, headThreads: Int, hookScratch: Int, attentionPrefix: Int = 0) -> Bool {
        rows <= self.rows && sequenceLength <= self.sequenceLength && attentionPrefix <= self.attentionPrefix
            && headThreads <= self.headThreads && hookScratch <= hookScratchCount
    }
}

/// Buffers kept between forward passes, so that a stream of batches of similar shapes allocates nothing: the
/// encoder lends one set per pass and takes it back after (concurrent passes get sets of their own).
final class WorkspacePool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [[SliceBuffers]] = []

    /// Buffers for every worker of `plan`, reused when the idle ones are large enough.
    func borrow(
        _ plan: ForwardPlan, hidden: Int, intermediateSize: Int, attentionPrefix: Int = 0, hookScratch: (Int) -> Int
    ) -> [SliceBuffers] {
        let reusable = lock.withLock { idle.popLast() } ?? []
        let rows = plan.largestSliceRows
        let scratch = hookScratch(rows)
        return (0..<plan.workers).map { worker in
            if worker < reusable.count,
                reusable[worker].fits(
                    rows: rows, sequenceLength: plan.longestItem, headThreads: plan.headThreads,
                    hookScratch: scratch, attentionPrefix: attentionPrefix)
            {
                return reusable[worker]
            }
            return SliceBuffers(
                rows: rows, sequenceLength: plan.longestItem, headThreads: plan.headThreads, hidden: hidden,
                intermediateSize: intermediateSize, hookScratch: scratch, attentionPrefix: attentionPrefix)
        }
    }

    /// Keeps `buffers` for the next pass (one set: the most recent).
    func giveBack(_ buffers: [SliceBuffers]) {
        lock.withLock { idle = [buffers] }
    }

    /// Frees the kept buffers.
    func removeAll() {
        lock.withLock { idle.removeAll() }
    }
}
