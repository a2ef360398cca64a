// MARK: - Compressing a stream

/// Writes a container: the header, then windows of chunks read from the source, encoded in parallel and
/// written in order. Memory: a window of raw and encoded chunks plus one scratch chunk per worker.
enum ContainerWriter {
    static func compress(header: ContainerHeader, threadCount: Int, from read: ByteSource, to write: ByteSink)
        throws -> CodecByteCounts
    {
        let chunkCount = header.chunkCount
        let workerCount = max(1, min(threadCount, chunkCount))
        let encoders = try (0..<workerCount).map { _ in try ChunkEncoder(elementWidth: header.elementWidth) }
        let windowSize = workerCount == 1 ? 1 : 2 * workerCount
        let jobs = (0..<min(windowSize, chunkCount)).map { _ in CompressionJob() }

        let headerBytes = header.encoded()
        try headerBytes.withUnsafeBytes { try write($0) }
        var encodedLength = headerBytes.count
        var firstChunk = 0
        return try withoutActuallyEscaping(read) { read in
            var source = SourceReader(read)
            while firstChunk < chunkCount {
                let batch = min(jobs.count, chunkCount - firstChunk)
                for (slot, job) in jobs.prefix(batch).enumerated() {
                    try job.fill(from: &source, rawLength: header.rawLength(ofChunk: firstChunk + slot), header: header)
                }
                try ParallelChunks.run(itemCount: batch, workers: encoders) { encoder, slot in
                    try jobs[slot].encode(with: encoder)
                }
                for job in jobs.prefix(batch) {
                    try write(job.encoded.filled)
                    encodedLength += job.encoded.count
                }
                firstChunk += batch
            }
            guard try source.isAtEnd() else {
                throw CodecError(
                    .sourceLengthMismatch, "byte source has more than the declared \(header.rawLength) bytes")
            }
            return CodecByteCounts(raw: source.offset, encoded: encodedLength)
        }
    }
}

/// One chunk on its way through the writer: raw bytes in, container bytes out. Filled and written by the caller
/// thread, encoded by one worker (the ``ParallelChunks`` ownership rule).
private final class CompressionJob: @unchecked Sendable {
    let raw = ChunkBuffer()
    let encoded = ChunkBuffer()

    func fill(from source: inout SourceReader, rawLength: Int, header: ContainerHeader) throws {
        raw.reserve(rawLength)
        let before = source.offset
        raw.count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw.bytes[0..<rawLength]))
        guard raw.count == rawLength else {
            throw CodecError(
                .sourceLengthMismatch,
                "byte source ended after \(before + raw.count) bytes, declared \(header.rawLength)")
        }
    }

    func encode(with encoder: ChunkEncoder) throws {
        encoded.reserve(ChunkEncoder.maximumEncodedLength(rawLength: raw.count, elementWidth: encoder.elementWidth))
        encoded.count = try encoder.encode(raw.filled, into: encoded.bytes)
    }
}
