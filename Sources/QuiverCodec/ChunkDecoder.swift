// MARK: - Decoding one chunk

/// Decodes one chunk whose table has been read and validated: inflates or takes each plane, interleaves the
/// planes back into elements and appends the tail.
///
/// Owns its scratch memory and zlib stream; not thread-safe: one instance per worker thread (see
/// ``ParallelBatch`` for the ownership rule that makes the `Sendable` conformance sound).
final class ChunkDecoder: @unchecked Sendable {
    let elementWidth: Int
    /// Room for inflated planes, grown to the largest chunk seen (unused for width 1, which inflates straight
    /// into the output).
    private let planeScratch = ChunkBuffer()
    private let inflater: PlaneInflater

    init(elementWidth: Int) throws {
        self.elementWidth = elementWidth
        inflater = try PlaneInflater()
    }

    /// Decodes the chunk described by `table` from `payload` (exactly `table.payloadLength` bytes) into the
    /// first `table.rawLength` bytes of `output`; `chunkIndex` names the chunk in error messages.
    func decode(
        _ payload: UnsafeRawBufferPointer, table: ChunkTable, chunkIndex: Int,
        into output: UnsafeMutableRawBufferPointer
    ) throws {
        precondition(payload.count == table.payloadLength && output.count >= table.rawLength)
        let width = elementWidth
        let planeLength = table.planeLength
        if width > 1 { planeScratch.reserve(planeLength * width) }
        var cursor = 0
        var planes: [UnsafeRawBufferPointer] = []
        planes.reserveCapacity(width)
        for (index, entry) in table.planes.enumerated() {
            let encoded = UnsafeRawBufferPointer(rebasing: payload[cursor..<(cursor + entry.encodedLength)])
            cursor += entry.encodedLength
            let destination =
                width == 1
                ? UnsafeMutableRawBufferPointer(rebasing: output[0..<planeLength])
                : UnsafeMutableRawBufferPointer(
                    rebasing: planeScratch.bytes[(index * planeLength)..<((index + 1) * planeLength)])
            switch entry.mode {
            case .stored where width == 1:
                destination.copyMemory(from: encoded)
            case .stored:
                planes.append(encoded)  // merged straight from the payload, no copy
            case .deflated:
                try inflater.inflate(encoded, into: destination, location: "chunk \(chunkIndex) plane \(index)")
                planes.append(UnsafeRawBufferPointer(destination))
            }
        }
        if width > 1 && planeLength > 0 {
            BytePlanes.merge(planes, into: output)
        }
        let tailStart = planeLength * width
        let tail = UnsafeRawBufferPointer(rebasing: payload[cursor...])
        UnsafeMutableRawBufferPointer(rebasing: output[tailStart..<(tailStart + tail.count)]).copyMemory(from: tail)
    }
}
