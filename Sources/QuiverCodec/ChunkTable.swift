// MARK: - Chunk table
//
// Every chunk starts with a table (integers little-endian):
//
//   u32 raw length of the chunk
//   then for each of the `elementWidth` planes: u8 mode (0 stored, 1 deflated), u32 encoded length
//
// followed by the planes' encoded bytes in plane order, then the chunk's tail: the last
// `rawLength % elementWidth` raw bytes, verbatim (only the final chunk can have one).

/// How one byte plane is stored in a chunk.
enum PlaneMode: UInt8 {
    /// The plane's bytes verbatim; encoded length equals the plane length.
    case stored = 0
    /// A raw deflate stream (RFC 1951, no zlib wrapper) that inflates to exactly the plane length.
    case deflated = 1
}

/// One plane's entry in a chunk table.
struct PlaneEntry: Equatable {
    var mode: PlaneMode
    var encodedLength: Int
}

/// The table at the start of a chunk: its raw length and how each byte plane is encoded.
struct ChunkTable: Equatable {
    /// Deflate cannot expand data more than 1032:1 (zlib's documented limit), so a deflated plane that
    /// declares more is refused before any inflation.
    static let maximumDeflateExpansion = 1032

    var rawLength: Int
    var planes: [PlaneEntry]

    /// The size of a chunk table for `elementWidth` planes.
    static func byteCount(elementWidth: Int) -> Int { 4 + 5 * elementWidth }

    /// Bytes per plane: one byte of each whole element in the chunk.
    var planeLength: Int { rawLength / planes.count }
    /// Raw bytes after the last whole element, stored verbatim after the planes.
    var tailLength: Int { rawLength % planes.count }
    /// The number of bytes between the end of this table and the start of the next chunk.
    var payloadLength: Int { planes.reduce(tailLength) { $0 + $1.encodedLength } }

    /// Writes the table into the first `byteCount(elementWidth:)` bytes of `buffer`.
    func encode(into buffer: UnsafeMutableRawBufferPointer) {
        buffer.storeLittleEndian(UInt32(rawLength), at: 0)
        for (index, plane) in planes.enumerated() {
            buffer.storeLittleEndian(plane.mode.rawValue, at: 4 + 5 * index)
            buffer.storeLittleEndian(UInt32(plane.encodedLength), at: 5 + 5 * index)
        }
    }

    /// Reads a chunk table and checks it against what the header implies for chunk `index`.
    ///
    /// After this returns, `payloadLength <= rawLength <= chunkSize`: a decoder can size its buffers from
    /// the header alone.
    init(decoding buffer: UnsafeRawBufferPointer, header: ContainerHeader, chunkIndex index: Int) throws {
        let width = header.elementWidth
        precondition(buffer.count >= Self.byteCount(elementWidth: width))
        let expectedRawLength = header.rawLength(ofChunk: index)
        let rawLength = Int(buffer.loadLittleEndian(at: 0, as: UInt32.self))
        guard rawLength == expectedRawLength else {
            throw CodecError(
                .invalidChunk,
                "chunk \(index): raw length \(rawLength), expected \(expectedRawLength) from the header "
                    + "(chunk size \(header.chunkSize), total \(header.rawLength))")
        }
        let planeLength = rawLength / width
        var planes: [PlaneEntry] = []
        planes.reserveCapacity(width)
        for plane in 0..<width {
            let modeByte = buffer.loadLittleEndian(at: 4 + 5 * plane, as: UInt8.self)
            let encodedLength = Int(buffer.loadLittleEndian(at: 5 + 5 * plane, as: UInt32.self))
            guard let mode = PlaneMode(rawValue: modeByte) else {
                throw CodecError(.invalidChunk, "chunk \(index) plane \(plane): unknown mode \(modeByte)")
            }
            if let problem = Self.problem(mode: mode, encodedLength: encodedLength, planeLength: planeLength) {
                throw CodecError(.invalidChunk, "chunk \(index) plane \(plane): \(problem)")
            }
            planes.append(PlaneEntry(mode: mode, encodedLength: encodedLength))
        }
        self.rawLength = rawLength
        self.planes = planes
    }

    init(rawLength: Int, planes: [PlaneEntry]) {
        self.rawLength = rawLength
        self.planes = planes
    }

    private static func problem(mode: PlaneMode, encodedLength: Int, planeLength: Int) -> String? {
        switch mode {
        case .stored where encodedLength != planeLength:
            return "stored plane of \(encodedLength) bytes, expected the plane length \(planeLength)"
        case .deflated where planeLength == 0:
            return "deflated plane in a chunk without whole elements"
        case .deflated where encodedLength == 0 || encodedLength > planeLength:
            return "deflated plane of \(encodedLength) bytes, expected 1...\(planeLength) (the plane length)"
        case .deflated where planeLength / maximumDeflateExpansion > encodedLength:
            return "deflated plane of \(encodedLength) bytes cannot inflate to \(planeLength) bytes"
        default:
            return nil
        }
    }
}
