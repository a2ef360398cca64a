// MARK: - Byte sources and sinks

/// Where a streaming call reads from: fills (part of) the buffer and returns the number of bytes written to
/// it, 0 only at the end of the input. Called on the caller's thread, in order.
///
/// For a file descriptor: `{ buffer in Foundation.read(fd, buffer.baseAddress, buffer.count) }` plus error
/// handling, or `FileHandle.read(upToCount:)` copied into the buffer.
public typealias ByteSource = (_ buffer: UnsafeMutableRawBufferPointer) throws -> Int

/// Where a streaming call writes to: receives the output in order, each buffer valid only during the call.
/// Called on the caller's thread. Hash here what passes through.
public typealias ByteSink = (_ bytes: UnsafeRawBufferPointer) throws -> Void

/// How many bytes a streaming call moved on each side.
public struct CodecByteCounts: Sendable, Equatable {
    /// Uncompressed bytes: read from the source by `compress`, written to the sink by `decompress`.
    public var raw: Int
    /// Container bytes: written by `compress`, read by `decompress`.
    public var encoded: Int

    public init(raw: Int, encoded: Int) {
        self.raw = raw
        self.encoded = encoded
    }
}

// MARK: - Reading exactly

/// Wraps a ``ByteSource`` to read exact amounts and count what was read.
struct SourceReader {
    private let source: ByteSource
    /// The bytes read so far.
    private(set) var offset = 0

    init(_ source: @escaping ByteSource) { self.source = source }

    /// Fills `buffer` unless the source ends first; returns the number of bytes read.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let rest = UnsafeMutableRawBufferPointer(rebasing: buffer[filled...])
            let count = try source(rest)
            guard (0...rest.count).contains(count) else {
                throw CodecError(.invalidArgument, "byte source returned \(count) for a buffer of \(rest.count) bytes")
            }
            if count == 0 { break }
            filled += count
        }
        offset += filled
        return filled
    }

    /// True when the source has no more bytes. Consumes at most one byte, so call it only at the end.
    mutating func isAtEnd() throws -> Bool {
        try withUnsafeTemporaryAllocation(byteCount: 1, alignment: 1) { probe in try read(into: probe) == 0 }
    }
}
