import Foundation
import QuiverTensor

/// How a forward pass uses the cores: the slices of whole batch items it is cut into, the threads ("workers") that
/// run them, and how the products inside a slice are threaded.
///
/// A batch of more than a few hundred rows is cut into slices of consecutive items of at most `targetSliceRows` rows
/// (an item longer than that is a slice of its own), smaller towards the end of the pass. Each worker takes the next
/// slice from a queue and runs it through every layer with single-threaded products, so the threads never wait for
/// each other until the end, and a worker whose core is shared with another process simply takes fewer slices
/// (docs/encoder.md). A single item, or a
/// batch of few rows, is one slice whose products are split between the threads (`.splitOutput`), and whose
/// attention heads are shared when the sequence is long enough. Padded or packed, the rule is the same: it counts
/// rows.
struct ForwardPlan: Equatable {
    let layout: SequenceLayout
    /// The batch items of each slice, in order.
    let slices: [Range<Int>]
    /// The threads taking slices from the queue, each with its own buffers.
    let workers: Int
    /// The threading of every product inside a slice.
    let threading: Gemm.Threading
    /// Threads sharing the attention heads of a slice.
    let headThreads: Int

    /// The rows a slice aims at: products stay near their best rate (M = 512) and the slice's buffers in cache.
    static let targetSliceRows = 512
    /// The rows the last slices of a pass shrink to (when items are that short): enough for the products to stay
    /// near their rate.
    static let smallestSliceRows = 64
    /// Below this many rows a batch is one slice with split products: slices of a few rows would each stream all
    /// the weights.
    static let smallestSlicedBatchRows = 256

    init(layout: SequenceLayout, threads: Int) {
        self.layout = layout
        let (batch, rows) = (layout.batch, layout.rows)
        let threads = max(1, threads)
        if threads >= 2 && (batch == 1 || rows < Self.smallestSlicedBatchRows) {
            slices = [0..<batch]
            workers = 1
            threading = .splitOutput(threads: threads)
            headThreads = threads
        } else {
            // At most targetSliceRows rows per slice, and at most a share of the rows left per thread (down to
            // smallestSliceRows): the slices shrink towards the end of the queue, so that the workers finish together
            // instead of one waiting for the other's last large slice.
            var slices: [Range<Int>] = []
            var start = 0
            while start < batch {
                let left = rows - layout.starts[start]
                let target = max(Self.smallestSliceRows, min(Self.targetSliceRows, left / (2 * threads)))
                var end = start + 1
                while end < batch, layout.starts[end + 1] - layout.starts[start] <= target { end += 1 }
                slices.append(start..<end)
                start = end
            }
            self.slices = slices
            workers = min(threads, slices.count)
            threading = .single
            headThreads = 1
        }
    }

    /// A padded batch's plan.
    init(batch: Int, sequenceLength: Int, threads: Int) {
        self.init(layout: SequenceLayout(batch: batch, length: sequenceLength), threads: threads)
    }

    /// The longest item: what each worker's attention buffers must hold.
    var longestItem: Int { layout.longest }

    /// Rows of the largest slice: what each worker's buffers must hold.
    var largestSliceRows: Int {
        slices.map { layout.starts[$0.upperBound] - layout.starts[$0.lowerBound] }.max() ?? 0
    }
}

/// The slices of a pass not yet taken by a worker.
final class SliceQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let count: Int

    init(count: Int) { self.count = count }

    /// The index of the next slice to run, or nil when every slice has been taken.
    func take() -> Int? {
        lock.withLock {
            guard next < count else { return nil }
            defer { next += 1 }
            return next
        }
    }
}
