import Foundation
import QuiverTensor

/// How a forward pass uses the cores: which batch items each thread runs, and how the products of one slice are
/// threaded.
///
/// With two items or more, the batch is cut into one slice of whole items per thread and each slice runs through
/// every layer on its own thread, with single-threaded products: the threads never wait for each other until the
/// end (docs/encoder.md). A single item is one slice whose products are split in two (`.splitOutput`) and whose
/// attention heads are shared between the threads.
struct ForwardPlan: Equatable {
    let batch: Int
    let sequenceLength: Int
    /// The batch items of each slice, in order.
    let slices: [Range<Int>]
    /// The threading of every product inside a slice.
    let threading: Gemm.Threading
    /// Threads sharing the attention heads of a slice.
    let headThreads: Int

    init(batch: Int, sequenceLength: Int, threads: Int) {
        self.batch = batch
        self.sequenceLength = sequenceLength
        let threads = max(1, threads)
        if batch >= 2 && threads >= 2 {
            let count = min(threads, batch)
            slices = (0..<count).map { Parallel.chunkRange($0, of: count, count: batch) }
            threading = .single
            headThreads = 1
        } else {
            slices = [0..<batch]
            threading = threads >= 2 ? .splitOutput(threads: threads) : .single
            headThreads = threads
        }
    }
}

/// The scratch buffers of one slice of a forward pass (its hidden states live in the caller's `HiddenStates`).
final class SliceBuffers: @unchecked Sendable {
    let rows: Int
    let sequenceLength: Int
    let headThreads: Int
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
    /// scores is (headThreads, sequenceLength, sequenceLength): one attention matrix per thread.
    let scores: FloatBuffer
    /// hookScratch is what `EncoderHooks.scratchFloats` asked for.
    let hookScratch: FloatBuffer

    init(rows: Int, sequenceLength: Int, headThreads: Int, hidden: Int, intermediateSize: Int, hookScratch: Int) {
        self.rows = rows
        self.sequenceLength = sequenceLength
        self.headThreads = headThreads
        self.hookScratchCount = hookScratch
        queryKeyValue = FloatBuffer(count: rows * 3 * hidden)
        context = FloatBuffer(count: rows * hidden)
        projected = FloatBuffer(count: rows * hidden)
        intermediate = FloatBuffer(count: rows * intermediateSize)
        scores = FloatBuffer(count: headThreads * sequenceLength * sequenceLength)
        self.hookScratch = FloatBuffer(count: hookScratch)
    }

    /// Whether these buffers serve a slice of `rows` rows of length `sequenceLength`.
    func fits(rows: Int, sequenceLength: Int, headThreads: Int, hookScratch: Int) -> Bool {
        rows <= self.rows && sequenceLength * sequenceLength * headThreads <= scores.count
            && hookScratch <= hookScratchCount
    }
}

/// Buffers kept between forward passes, so that a stream of batches of similar shapes allocates nothing: the
/// encoder lends one set per pass and takes it back after (concurrent passes get sets of their own).
final class WorkspacePool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [[SliceBuffers]] = []

    /// Buffers for every slice of `plan`, reused when the idle ones are large enough.
    func borrow(
        _ plan: ForwardPlan, hidden: Int, intermediateSize: Int, hookScratch: (Int) -> Int
    ) -> [SliceBuffers] {
        let reusable = lock.withLock { idle.popLast() } ?? []
        return plan.slices.enumerated().map { index, items in
            let rows = items.count * plan.sequenceLength
            let scratch = hookScratch(rows)
            if index < reusable.count,
                reusable[index].fits(
                    rows: rows, sequenceLength: plan.sequenceLength, headThreads: plan.headThreads,
                    hookScratch: scratch)
            {
                return reusable[index]
            }
            return SliceBuffers(
                rows: rows, sequenceLength: plan.sequenceLength, headThreads: plan.headThreads, hidden: hidden,
                intermediateSize: intermediateSize, hookScratch: scratch)
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
