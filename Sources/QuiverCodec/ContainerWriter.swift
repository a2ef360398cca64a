// MARK: - Compressing a stream

/// Writes a container: the header, then the chunks read from the source, encoded on worker threads and written
/// in order (see ``ChunkPipeline``). Memory: two windows of raw and encoded chunks plus one plane scratch per
/// worker, whatever the input size (raw chunks are not copied when the source is memory).
enum ContainerWriter {
    static func compress(
        header: ContainerHeader, threadCount: Int, from source: inout SourceReader, to write: ByteSink
    ) throws -> CodecByteCounts {
        let chunkCount = header.chunkCount
        let workerCount = max(1, min(threadCount, chunkCount))
        let encoders = try (0..<workerCount).map { _ in try ChunkEncoder(elementWidth: header.elementWidth) }
        let windowSize = min(2 * workerCount, chunkCount)
        let windows = (0..<2).map { _ in (0..<windowSize).map { _ in CompressionJob() } }

        let headerBytes = header.encoded()
        try headerBytes.withUnsafeBytes { try write($0) }
        var encodedLength = headerBytes.count
        try ChunkPipeline.run(
            chunkCount: chunkCount, windows: windows, workers: encoders,
            fill: { job, index in try job.fill(from: &source, header: header, chunkIndex: index) },
            process: { encoder, job in try job.encode(with: encoder) },
            drain: { job in
                try write(job.encoded.filled)
                encodedLength += job.encoded.count
            })
        guard try source.isAtEnd() else {
            throw CodecError(.sourceLengthMismatch, "byte source has more than the declared \(header.rawLength) bytes")
        }
        return CodecByteCounts(raw: source.offset, encoded: encodedLength)
    }
}

/// One chunk on its way through the writer: raw bytes in, container bytes out. Filled and drained on the caller's
/// thread, encoded by one worker (the ``ParallelBatch`` ownership rule).
private final class CompressionJob: @unchecked Sendable {
    /// The chunk's raw bytes: a view of the caller's memory, or of `rawCopy`.
    private var raw = UnsafeRawBufferPointer(start: nil, count: 0)
    private let rawCopy = ChunkBuffer()
    let encoded = ChunkBuffer()

    func fill(from source: inout SourceReader, header: ContainerHeader, chunkIndex index: Int) throws {
        let rawLength = header.rawLength(ofChunk: index)
        let before = source.offset
        raw = try source.next(rawLength, copyingInto: rawCopy)
        guard raw.count == rawLength else {
            throw CodecError(
                .sourceLengthMismatch,
                "byte source ended after \(before + raw.count) bytes, declared \(header.rawLength)")
        }
    }

    func encode(with encoder: ChunkEncoder) throws {
        encoded.reserve(ChunkEncoder.maximumEncodedLength(rawLength: raw.count, elementWidth: encoder.elementWidth))
        encoded.count = try encoder.encode(raw, into: encoded.bytes)
    }
}
