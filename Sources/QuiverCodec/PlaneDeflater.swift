import CZlib

// MARK: - Deflating one plane

/// The zlib strategies the encoder uses for a plane (both are fast single-pass modes of zlib's deflate).
enum DeflateStrategy: Equatable {
    /// Huffman coding of single bytes, no match search: the right tool for the exponent planes of floats,
    /// whose bytes are skewed but not repetitive.
    case huffmanOnly
    /// Huffman coding plus runs of one repeated byte (matches at distance 1): for nearly constant planes,
    /// where Huffman alone cannot go below one bit per byte.
    case runLength

    var zlibValue: Int32 {
        switch self {
        case .huffmanOnly: Z_HUFFMAN_ONLY
        case .runLength: Z_RLE
        }
    }
}

/// A reusable zlib deflate stream writing raw deflate (RFC 1951, no zlib header or Adler-32: the store
/// verifies SHA-256 digests of whole blobs, so a second checksum would only cost time).
///
/// Not thread-safe: one instance per worker.
final class PlaneDeflater {
    /// zlib keeps a pointer back to its `z_stream`, so the stream lives at a fixed heap address.
    private let stream: UnsafeMutablePointer<z_stream>
    private var strategy = DeflateStrategy.huffmanOnly

    /// Level 1 (only the strategies' single-pass modes are used); memory level 9 lets zlib buffer 32 Ki
    /// symbols per block, which keeps block headers rare.
    private static let level: Int32 = 1
    private static let memoryLevel: Int32 = 9
    private static let rawDeflateWindowBits: Int32 = -15

    init() throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = deflateInit2_(
            stream, Self.level, Z_DEFLATED, Self.rawDeflateWindowBits, Self.memoryLevel, strategy.zlibValue,
            zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            throw CodecError(.zlibFailure, "deflateInit2 returned \(status)")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    /// Deflates `plane` into `destination` and returns the number of bytes written, or nil when the deflate
    /// stream does not fit in `destination` (the caller then stores the plane as it is).
    func deflate(
        _ plane: UnsafeRawBufferPointer, strategy: DeflateStrategy, into destination: UnsafeMutableRawBufferPointer
    ) throws -> Int? {
        guard let input = plane.baseAddress, let output = destination.baseAddress, !destination.isEmpty else {
            return nil
        }
        try check(deflateReset(stream), "deflateReset")
        if strategy != self.strategy {
            try check(deflateParams(stream, Self.level, strategy.zlibValue), "deflateParams")
            self.strategy = strategy
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(plane.count)
        stream.pointee.next_out = output.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(destination.count)
        let status = CZlib.deflate(stream, Z_FINISH)
        switch status {
        case Z_STREAM_END:
            return destination.count - Int(stream.pointee.avail_out)
        case Z_OK, Z_BUF_ERROR:
            return nil  // out of room: deflate would not make the plane smaller
        default:
            throw CodecError(.zlibFailure, "deflate returned \(status)")
        }
    }

    private func check(_ status: Int32, _ operation: String) throws {
        guard status == Z_OK else { throw CodecError(.zlibFailure, "\(operation) returned \(status)") }
    }
}
