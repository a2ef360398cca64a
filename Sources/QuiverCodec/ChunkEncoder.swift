// MARK: - Encoding one chunk

/// Encodes one chunk: splits it into byte planes, encodes each plane as the policy chooses (falling back to
/// stored when deflate does not shrink it), and writes table, planes and tail.
///
/// Owns its scratch memory and zlib stream; not thread-safe: one instance per worker thread (see
/// ``ParallelBatch`` for the ownership rule that makes the `Sendable` conformance sound).
final class ChunkEncoder: @unchecked Sendable {
    let elementWidth: Int
    /// Room for the planes of one chunk (unused for width 1, whose single plane is the chunk itself).
    private let planeScratch = ChunkBuffer()
    private let deflater: PlaneDeflater

    init(elementWidth: Int) throws {
        self.elementWidth = elementWidth
        deflater = try PlaneDeflater()
    }

    /// The most bytes `encode` writes for a chunk of `rawLength` bytes: planes never grow, so table + raw.
    static func maximumEncodedLength(rawLength: Int, elementWidth: Int) -> Int {
        ChunkTable.byteCount(elementWidth: elementWidth) + rawLength
    }

    /// Encodes `raw` into the start of `output` (at least `maximumEncodedLength` bytes) and returns the
    /// number of bytes written.
    func encode(_ raw: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        let width = elementWidth
        precondition(output.count >= Self.maximumEncodedLength(rawLength: raw.count, elementWidth: width))
        let planeLength = raw.count / width
        let wholeElements = UnsafeRawBufferPointer(rebasing: raw[0..<(planeLength * width)])
        let planes: UnsafeRawBufferPointer
        if width == 1 {
            planes = wholeElements
        } else {
            planeScratch.reserve(wholeElements.count)
            BytePlanes.split(wholeElements, width: width, into: planeScratch.bytes)
            planes = UnsafeRawBufferPointer(rebasing: planeScratch.bytes[0..<wholeElements.count])
        }

        var table = ChunkTable(rawLength: raw.count, planes: [])
        var cursor = ChunkTable.byteCount(elementWidth: width)
        for index in 0..<width {
            let plane = UnsafeRawBufferPointer(rebasing: planes[(index * planeLength)..<((index + 1) * planeLength)])
            let destination = UnsafeMutableRawBufferPointer(rebasing: output[cursor..<(cursor + planeLength)])
            let entry = try encodePlane(plane, into: destination)
            table.planes.append(entry)
            cursor += entry.encodedLength
        }
        let tail = UnsafeRawBufferPointer(rebasing: raw[wholeElements.count...])
        UnsafeMutableRawBufferPointer(rebasing: output[cursor..<(cursor + tail.count)]).copyMemory(from: tail)
        cursor += tail.count
        table.encode(into: output)
        return cursor
    }

    /// Encodes one plane into `destination` (exactly the plane's length: a deflate stream must come out
    /// strictly shorter than the plane or the plane is stored).
    private func encodePlane(_ plane: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer)
        throws -> PlaneEntry
    {
        if case .deflated(let strategy) = PlaneEncodingPolicy.encoding(for: plane) {
            let room = UnsafeMutableRawBufferPointer(rebasing: destination.dropLast())
            if let length = try deflater.deflate(plane, strategy: strategy, into: room) {
                return PlaneEntry(mode: .deflated, encodedLength: length)
            }
        }
        destination.copyMemory(from: plane)
        return PlaneEntry(mode: .stored, encodedLength: plane.count)
    }
}
