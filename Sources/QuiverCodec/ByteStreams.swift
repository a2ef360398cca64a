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

/// Reads a container's or a blob's bytes in exact amounts and counts them, from a ``ByteSource`` or straight from
/// memory. From memory nothing is copied: ``next(_:copyingInto:)`` hands out views of the caller's buffer.
struct SourceReader {
    private enum Input {
        case stream(ByteSource)
        case memory(UnsafeRawBufferPointer)
    }

    private let input: Input
    /// The bytes read so far.
    private(set) var offset = 0

    init(_ source: @escaping ByteSource) { input = .stream(source) }

    /// Reads from `bytes`, which must stay valid while the reader and the views it returned are in use.
    init(memory bytes: UnsafeRawBufferPointer) { input = .memory(bytes) }

    /// The next `count` bytes, or fewer if the input ends first: a view of the caller's memory when reading from
    /// memory, otherwise copied into `buffer` (grown as needed). The view is valid until `buffer` is reused.
    mutating func next(_ count: Int, copyingInto buffer: ChunkBuffer) throws -> UnsafeRawBufferPointer {
        switch input {
        case .memory(let bytes):
            let available = min(count, bytes.count - offset)
            defer { offset += available }
            return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + available)])
        case .stream(let source):
            buffer.reserve(count)
            buffer.count = try Self.fill(UnsafeMutableRawBufferPointer(rebasing: buffer.bytes[0..<count]), from: source)
            offset += buffer.count
            return buffer.filled
        }
    }

    /// True when the input has no more bytes. Consumes at most one byte of a stream, so call it only at the end.
    mutating func isAtEnd() throws -> Bool {
        switch input {
        case .memory(let bytes):
            return offset == bytes.count
        case .stream(let source):
            return try withUnsafeTemporaryAllocation(byteCount: 1, alignment: 1) {
                try Self.fill($0, from: source) == 0
            }
        }
    }

    /// Fills `buffer` unless the source ends first; returns the number of bytes read.
    private static func fill(_ buffer: UnsafeMutableRawBufferPointer, from source: ByteSource) throws -> Int {
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
        return filled
    }
}
