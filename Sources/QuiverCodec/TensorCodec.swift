import Foundation

// MARK: - Public API

/// Float-aware lossless compression of tensor bytes: each chunk of the input is split into byte planes (all
/// first bytes of its elements, then all second bytes, …), and each plane is deflated with zlib or stored as it
/// is, whichever is smaller. The planes that hold sign and exponent bits compress well; the low mantissa bytes
/// are near-random and are stored. The container format is described in `docs/codec.md`.
///
/// ```swift
/// let packed = try TensorCodec.compress(weightBytes, elementWidth: 4)  // F32: 4 byte planes
/// let restored = try TensorCodec.decompress(packed)                    // == weightBytes
/// ```
///
/// Chunks are encoded and decoded on up to `threadCount` threads, a few chunks at a time, so the streaming
/// calls run in bounded memory whatever the blob size. Decoding checks every length against the header and
/// its limits before allocating and throws a ``CodecError`` for any malformed input.
///
/// All calls are synchronous: they block the calling thread while Dispatch worker threads do the work, and call
/// the streaming closures on the calling thread only. The encoded bytes do not depend on the thread count.
public enum TensorCodec {
    /// Raw bytes per chunk unless told otherwise: 1 MiB (from 256 KiB to 4 MiB the ratio stays within
    /// 0.1 % and the speed within noise; smaller chunks leave less idle time at the end of a parallel window).
    public static let defaultChunkSize = 1 << 20

    /// Threads used unless told otherwise: the active processors, at most 8.
    public static let defaultThreadCount = min(max(1, ProcessInfo.processInfo.activeProcessorCount), 8)

    // MARK: In memory

    /// Compresses `bytes`, read as elements of `elementWidth` bytes (1, 2, 4 or 8: 4 for F32, 2 for F16 and
    /// BF16, 8 for F64; 1 disables grouping). The length need not be a multiple of the width.
    public static func compress(
        _ bytes: some ContiguousBytes, elementWidth: Int, chunkSize: Int = defaultChunkSize,
        threadCount: Int = defaultThreadCount
    ) throws -> [UInt8] {
        try bytes.withUnsafeBytes { input in
            let header = try ContainerHeader(elementWidth: elementWidth, chunkSize: chunkSize, rawLength: input.count)
            try validate(threadCount: threadCount)
            var output: [UInt8] = []
            output.reserveCapacity(
                ContainerHeader.byteCount + input.count
                    + header.chunkCount * ChunkTable.byteCount(elementWidth: elementWidth))
            var source = SourceReader(memory: input)
            _ = try ContainerWriter.compress(
                header: header, threadCount: threadCount, from: &source, to: { output.append(contentsOf: $0) })
            return output
        }
    }

    /// Decompresses a whole container. Throws ``CodecError`` for any malformed input, including bytes after the
    /// container's end.
    public static func decompress(_ encoded: some ContiguousBytes, threadCount: Int = defaultThreadCount) throws
        -> [UInt8]
    {
        try validate(threadCount: threadCount)
        return try encoded.withUnsafeBytes { input in
            var source = SourceReader(memory: input)
            let header = try ContainerReader.readHeader(from: &source)
            // Deflate expands at most 1032:1, so a valid container of this size cannot hold more.
            let (limit, overflow) = input.count.multipliedReportingOverflow(by: ChunkTable.maximumDeflateExpansion)
            guard overflow || header.rawLength <= limit else {
                throw CodecError(
                    .invalidHeader,
                    "header: raw length \(header.rawLength) is more than a \(input.count)-byte container can hold")
            }
            return try [UInt8](unsafeUninitializedCapacity: header.rawLength) { output, initializedCount in
                _ = try ContainerReader.decompress(
                    header, from: &source, threadCount: threadCount, into: UnsafeMutableRawBufferPointer(output),
                    to: { _ in })
                initializedCount = header.rawLength
            }
        }
    }

    // MARK: Streaming

    /// Compresses exactly `rawLength` bytes pulled from `read` and pushes the container to `write`, holding only a
    /// few chunks in memory. Both closures are called on the caller's thread, in stream order: to hash both sides
    /// while streaming a file into a compressed one, hash what `read` just filled and what `write` receives.
    ///
    /// Throws ``CodecError/Kind/sourceLengthMismatch`` if the source ends early or has bytes beyond `rawLength`,
    /// and rethrows errors from `read` and `write`.
    /// - Returns: the bytes read (`raw`, equal to `rawLength`) and written (`encoded`).
    public static func compress(
        rawLength: Int, elementWidth: Int, chunkSize: Int = defaultChunkSize, threadCount: Int = defaultThreadCount,
        from read: ByteSource, to write: ByteSink
    ) throws -> CodecByteCounts {
        let header = try ContainerHeader(elementWidth: elementWidth, chunkSize: chunkSize, rawLength: rawLength)
        try validate(threadCount: threadCount)
        return try withoutActuallyEscaping(read) { read in
            var source = SourceReader(read)
            return try ContainerWriter.compress(header: header, threadCount: threadCount, from: &source, to: write)
        }
    }

    /// Decompresses a container pulled from `read` and pushes the raw bytes to `write`, holding only a few chunks
    /// in memory. Both closures are called on the caller's thread, in stream order. Bytes reach `write` before
    /// the whole container is checked: on a thrown error, discard what was written.
    ///
    /// Throws ``CodecError`` for any malformed input (reading one byte past the container to make sure it ends
    /// there) and rethrows errors from `read` and `write`.
    /// - Returns: the bytes written (`raw`) and read (`encoded`, the container's length).
    public static func decompress(
        threadCount: Int = defaultThreadCount, from read: ByteSource, to write: ByteSink
    ) throws -> CodecByteCounts {
        try validate(threadCount: threadCount)
        return try withoutActuallyEscaping(read) { read in
            var source = SourceReader(read)
            let header = try ContainerReader.readHeader(from: &source)
            return try ContainerReader.decompress(header, from: &source, threadCount: threadCount, to: write)
        }
    }

    private static func validate(threadCount: Int) throws {
        guard (1...256).contains(threadCount) else {
            throw CodecError(.invalidArgument, "thread count \(threadCount) is outside 1...256")
        }
    }
}
