// MARK: - Container header
//
// Layout (20 bytes, integers little-endian; see docs/codec.md):
//
//   offset  size  field
//        0     4  magic "QVBP"
//        4     1  format version (1)
//        5     1  element width in bytes: 1, 2, 4 or 8 (= number of byte planes per chunk)
//        6     2  reserved flags, must be 0
//        8     4  chunk size: raw bytes per chunk, a multiple of the element width
//       12     8  total raw length in bytes

/// The fixed-size header at the start of every container: enough to know the blob's raw size and layout
/// without decoding it.
public struct ContainerHeader: Sendable, Equatable {
    /// The four bytes every container starts with: ASCII "QVBP" (Quiver byte planes).
    public static let magic: [UInt8] = Array("QVBP".utf8)
    /// The format version this build writes and reads.
    public static let currentVersion: UInt8 = 1
    /// The size of the encoded header in bytes.
    public static let byteCount = 20
    /// Element widths the codec groups by: one byte plane per byte of an element.
    public static let supportedElementWidths: Set<Int> = [1, 2, 4, 8]
    /// Chunk sizes a container may declare. The upper bound caps what a decoder allocates per chunk.
    public static let chunkSizeLimits = 64...(64 << 20)
    /// The largest total raw length a container may declare (2^56 bytes, far beyond any tensor blob).
    public static let maximumRawLength = 1 << 56

    /// Bytes per element; each chunk is split into this many byte planes.
    public let elementWidth: Int
    /// Raw bytes per chunk; every chunk but the last holds exactly this many.
    public let chunkSize: Int
    /// The total number of raw (decoded) bytes.
    public let rawLength: Int

    /// Creates a header after checking every field; throws ``CodecError/Kind/invalidArgument`` otherwise.
    public init(elementWidth: Int, chunkSize: Int, rawLength: Int) throws {
        if let problem = Self.problem(elementWidth: elementWidth, chunkSize: chunkSize, rawLength: rawLength) {
            throw CodecError(.invalidArgument, problem)
        }
        self.elementWidth = elementWidth
        self.chunkSize = chunkSize
        self.rawLength = rawLength
    }

    /// The number of chunks that follow the header.
    public var chunkCount: Int { rawLength == 0 ? 0 : (rawLength - 1) / chunkSize + 1 }

    /// The raw length of chunk `index`: `chunkSize` for all chunks but the last, the remainder for the last.
    func rawLength(ofChunk index: Int) -> Int {
        min(chunkSize, rawLength - index * chunkSize)
    }

    private static func problem(elementWidth: Int, chunkSize: Int, rawLength: Int) -> String? {
        if !supportedElementWidths.contains(elementWidth) {
            return "element width \(elementWidth) is not one of 1, 2, 4, 8"
        }
        if !chunkSizeLimits.contains(chunkSize) {
            return "chunk size \(chunkSize) is outside \(chunkSizeLimits.lowerBound)...\(chunkSizeLimits.upperBound)"
        }
        if chunkSize % elementWidth != 0 {
            return "chunk size \(chunkSize) is not a multiple of the element width \(elementWidth)"
        }
        if rawLength < 0 || rawLength > maximumRawLength {
            return "raw length \(rawLength) is outside 0...\(maximumRawLength)"
        }
        return nil
    }
}

// MARK: - Encoding and decoding

extension ContainerHeader {
    /// The header's 20 bytes.
    func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.byteCount)
        bytes.withUnsafeMutableBytes { buffer in
            buffer.copyBytes(from: Self.magic)
            buffer.storeLittleEndian(Self.currentVersion, at: 4)
            buffer.storeLittleEndian(UInt8(elementWidth), at: 5)
            buffer.storeLittleEndian(UInt16(0), at: 6)
            buffer.storeLittleEndian(UInt32(chunkSize), at: 8)
            buffer.storeLittleEndian(UInt64(rawLength), at: 12)
        }
        return bytes
    }

    /// Reads and validates a header from the first bytes of a container.
    ///
    /// `bytes` may be longer than the header (the rest is ignored) but not shorter: a short prefix throws
    /// ``CodecError/Kind/truncated`` if it matches the magic so far, ``CodecError/Kind/badMagic`` otherwise.
    public init(decoding bytes: UnsafeRawBufferPointer) throws {
        let magicPrefix = min(bytes.count, Self.magic.count)
        guard bytes.prefix(magicPrefix).elementsEqual(Self.magic.prefix(magicPrefix)) else {
            let found = bytes.prefix(Self.magic.count).map(hexByte).joined(separator: " ")
            throw CodecError(.badMagic, "header starts with [\(found)], expected \"QVBP\" (51 56 42 50)")
        }
        guard bytes.count >= Self.byteCount else {
            throw CodecError(.truncated, "header: expected \(Self.byteCount) bytes, input has \(bytes.count)")
        }
        let version = bytes.loadLittleEndian(at: 4, as: UInt8.self)
        guard version == Self.currentVersion else {
            throw CodecError(.unsupportedVersion, "header: format version \(version), this build reads version 1")
        }
        let flags = bytes.loadLittleEndian(at: 6, as: UInt16.self)
        guard flags == 0 else {
            throw CodecError(.invalidHeader, "header: reserved flags are \(flags), expected 0")
        }
        let elementWidth = Int(bytes.loadLittleEndian(at: 5, as: UInt8.self))
        let chunkSize = Int(bytes.loadLittleEndian(at: 8, as: UInt32.self))
        let declaredRawLength = bytes.loadLittleEndian(at: 12, as: UInt64.self)
        let rawLength = declaredRawLength > UInt64(Self.maximumRawLength) ? -1 : Int(declaredRawLength)
        if let problem = Self.problem(elementWidth: elementWidth, chunkSize: chunkSize, rawLength: rawLength) {
            let detail = rawLength < 0 ? "raw length \(declaredRawLength) exceeds \(Self.maximumRawLength)" : problem
            throw CodecError(.invalidHeader, "header: \(detail)")
        }
        self.elementWidth = elementWidth
        self.chunkSize = chunkSize
        self.rawLength = rawLength
    }
}

/// `0x5a` as "5a".
private func hexByte(_ byte: UInt8) -> String {
    let digits = String(byte, radix: 16)
    return digits.count == 1 ? "0" + digits : digits
}
