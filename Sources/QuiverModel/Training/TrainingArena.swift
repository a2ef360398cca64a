import QuiverTensor

/// The activation memory of one slice of a training step: a stack of floats handed out in order and given back all
/// at once (`reset`) or down to a mark (`release`). It grows by adding chunks; at `reset` the chunks are merged into
/// one as large as all of them, so a stream of steps of similar shapes allocates nothing after the first.
final class TrainingArena: @unchecked Sendable {
    struct Mark {
        fileprivate let chunk: Int
        fileprivate let offset: Int
    }

    private var chunks: [FloatBuffer]
    private var chunk = 0
    private var offset = 0

    init(capacity: Int = 1 << 16) {
        chunks = [FloatBuffer(count: capacity)]
    }

    /// The floats held, over all chunks.
    var capacity: Int { chunks.reduce(0) { $0 + $1.count } }

    /// `count` floats, 64-byte aligned, uninitialised (they hold what an earlier step left).
    func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        let rounded = (count + 15) & ~15
        while offset + rounded > chunks[chunk].count {
            chunk += 1
            offset = 0
            if chunk == chunks.count {
                chunks.append(FloatBuffer(count: max(rounded, chunks[chunk - 1].count)))
            }
        }
        defer { offset += rounded }
        return chunks[chunk].pointer + offset
    }

    /// `count` floats set to zero.
    func zeros(_ count: Int) -> UnsafeMutablePointer<Float> {
        let pointer = take(count)
        pointer.update(repeating: 0, count: count)
        return pointer
    }

    /// A copy of `count` floats.
    func copy(_ source: UnsafePointer<Float>, count: Int) -> UnsafeMutablePointer<Float> {
        let pointer = take(count)
        pointer.update(from: source, count: count)
        return pointer
    }

    var mark: Mark { Mark(chunk: chunk, offset: offset) }

    /// Gives back everything taken after `mark`.
    func release(to mark: Mark) {
        chunk = mark.chunk
        offset = mark.offset
    }

    /// Gives back everything; merges the chunks into one when there are several.
    func reset() {
        if chunks.count > 1 { chunks = [FloatBuffer(count: capacity)] }
        chunk = 0
        offset = 0
    }
}
