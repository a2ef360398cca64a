// MARK: - Chunk-sized byte buffers

/// A heap byte buffer that grows on demand and is reused from chunk to chunk.
///
/// Decoders grow buffers only to sizes already validated against the header's limits, and only when a chunk
/// needs them, so a header declaring large chunks costs nothing until such a chunk actually arrives.
final class ChunkBuffer {
    private(set) var bytes = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    /// The number of meaningful bytes at the start of `bytes`.
    var count = 0

    init(capacity: Int = 0) { reserve(capacity) }

    deinit { bytes.deallocate() }

    /// Makes room for at least `capacity` bytes; the contents are not preserved.
    func reserve(_ capacity: Int) {
        guard capacity > bytes.count else { return }
        bytes.deallocate()
        bytes = .allocate(byteCount: capacity, alignment: 64)
    }

    /// The first `count` bytes, read-only.
    var filled: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[0..<count]) }
}
