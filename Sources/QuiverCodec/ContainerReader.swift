// MARK: - Decompressing a stream

/// Reads a container strictly: the header, then each chunk's table (checked against the header before any buffer
/// is sized from it) and payload, decoded on worker threads and written in order (see ``ChunkPipeline``), then
/// the end of the input.
enum ContainerReader {
    static func decompress(threadCount: Int, from read: ByteSource, to write: ByteSink) throws -> CodecByteCounts {
        try withoutActuallyEscaping(read) { read in
            var source = SourceReader(read)
            let header = try readHeader(from: &source)
            let chunkCount = header.chunkCount
            let workerCount = max(1, min(threadCount, chunkCount))
            let decoders = try (0..<workerCount).map { _ in try ChunkDecoder(elementWidth: header.elementWidth) }
            let windowSize = min(2 * workerCount, chunkCount)
            let windows = (0..<2).map { _ in (0..<windowSize).map { _ in DecompressionJob() } }

            var rawLength = 0
            try ChunkPipeline.run(
                chunkCount: chunkCount, windows: windows, workers: decoders,
                fill: { job, index in try job.fill(from: &source, header: header, chunkIndex: index) },
                process: { decoder, job in try job.decode(with: decoder) },
                drain: { job in
                    try write(job.raw.filled)
                    rawLength += job.raw.count
                })
            let end = source.offset
            guard try source.isAtEnd() else {
                throw CodecError(.trailingData, "bytes follow the last chunk at offset \(end)")
            }
            return CodecByteCounts(raw: rawLength, encoded: end)
        }
    }

    private static func readHeader(from source: inout SourceReader) throws -> ContainerHeader {
        try withUnsafeTemporaryAllocation(byteCount: ContainerHeader.byteCount, alignment: 8) { buffer in
            let count = try source.read(into: buffer)
            return try ContainerHeader(decoding: UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
    }
}

/// One chunk on its way through the reader: table and payload in, raw bytes out. Filled and drained on the
/// caller's thread, decoded by one worker (the ``ParallelBatch`` ownership rule).
private final class DecompressionJob: @unchecked Sendable {
    private let tableBytes = ChunkBuffer()
    private let payload = ChunkBuffer()
    let raw = ChunkBuffer()
    private var table = ChunkTable(rawLength: 0, planes: [])
    private var chunkIndex = 0

    /// Reads and validates chunk `index`'s table, then reads its payload.
    func fill(from source: inout SourceReader, header: ContainerHeader, chunkIndex index: Int) throws {
        let tableLength = ChunkTable.byteCount(elementWidth: header.elementWidth)
        tableBytes.reserve(tableLength)
        let tableOffset = source.offset
        tableBytes.count = try source.read(
            into: UnsafeMutableRawBufferPointer(rebasing: tableBytes.bytes[0..<tableLength]))
        guard tableBytes.count == tableLength else {
            throw CodecError(
                .truncated,
                "chunk \(index) of \(header.chunkCount): table at offset \(tableOffset) needs \(tableLength) bytes, "
                    + "input ended after \(tableBytes.count)")
        }
        table = try ChunkTable(decoding: tableBytes.filled, header: header, chunkIndex: index)
        chunkIndex = index

        let payloadLength = table.payloadLength  // <= raw length <= chunk size, checked by ChunkTable
        payload.reserve(payloadLength)
        let payloadOffset = source.offset
        payload.count = try source.read(
            into: UnsafeMutableRawBufferPointer(rebasing: payload.bytes[0..<payloadLength]))
        guard payload.count == payloadLength else {
            throw CodecError(
                .truncated,
                "chunk \(index) of \(header.chunkCount): payload at offset \(payloadOffset) needs \(payloadLength) "
                    + "bytes, input ended after \(payload.count)")
        }
    }

    func decode(with decoder: ChunkDecoder) throws {
        raw.reserve(table.rawLength)
        try decoder.decode(payload.filled, table: table, chunkIndex: chunkIndex, into: raw.bytes)
        raw.count = table.rawLength
    }
}
