// MARK: - Decompressing a stream

/// Reads a container strictly: the header, then each chunk's table (checked against the header before any buffer
/// is sized from it) and payload, decoded on worker threads and written in order (see ``ChunkPipeline``), then
/// the end of the input.
enum ContainerReader {
    /// Reads the header alone, so that a caller can size its output before ``decompress(_:from:threadCount:into:to:)``.
    static func readHeader(from source: inout SourceReader) throws -> ContainerHeader {
        let buffer = ChunkBuffer()
        return try ContainerHeader(decoding: try source.next(ContainerHeader.byteCount, copyingInto: buffer))
    }

    /// Decodes the chunks that follow `header` in `source`. With `output` (exactly `header.rawLength` bytes) each
    /// chunk is decoded in place there and `write` sees views of it; otherwise chunks go through buffers of their
    /// own.
    static func decompress(
        _ header: ContainerHeader, from source: inout SourceReader, threadCount: Int,
        into output: UnsafeMutableRawBufferPointer? = nil, to write: ByteSink
    ) throws -> CodecByteCounts {
        precondition(output == nil || output!.count == header.rawLength)
        let chunkCount = header.chunkCount
        let workerCount = max(1, min(threadCount, chunkCount))
        let decoders = try (0..<workerCount).map { _ in try ChunkDecoder(elementWidth: header.elementWidth) }
        let windowSize = min(2 * workerCount, chunkCount)
        let windows = (0..<2).map { _ in (0..<windowSize).map { _ in DecompressionJob() } }

        var rawLength = 0
        try ChunkPipeline.run(
            chunkCount: chunkCount, windows: windows, workers: decoders,
            fill: { job, index in try job.fill(from: &source, header: header, chunkIndex: index, output: output) },
            process: { decoder, job in try job.decode(with: decoder) },
            drain: { job in
                try write(UnsafeRawBufferPointer(job.destination))
                rawLength += job.destination.count
            })
        let end = source.offset
        guard try source.isAtEnd() else {
            throw CodecError(.trailingData, "bytes follow the last chunk at offset \(end)")
        }
        return CodecByteCounts(raw: rawLength, encoded: end)
    }
}

/// One chunk on its way through the reader: table and payload in, raw bytes out. Filled and drained on the
/// caller's thread, decoded by one worker (the ``ParallelBatch`` ownership rule).
private final class DecompressionJob: @unchecked Sendable {
    private let tableCopy = ChunkBuffer()
    private let payloadCopy = ChunkBuffer()
    private let rawBuffer = ChunkBuffer()
    /// The chunk's encoded bytes after its table: a view of the caller's memory, or of `payloadCopy`.
    private var payload = UnsafeRawBufferPointer(start: nil, count: 0)
    private var table = ChunkTable(rawLength: 0, planes: [])
    private var chunkIndex = 0
    /// Where the chunk decodes to: its place in the caller's output, or `rawBuffer`.
    private(set) var destination = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    /// Reads and validates chunk `index`'s table, then reads its payload.
    func fill(
        from source: inout SourceReader, header: ContainerHeader, chunkIndex index: Int,
        output: UnsafeMutableRawBufferPointer?
    ) throws {
        let tableLength = ChunkTable.byteCount(elementWidth: header.elementWidth)
        let tableOffset = source.offset
        let tableBytes = try source.next(tableLength, copyingInto: tableCopy)
        guard tableBytes.count == tableLength else {
            throw CodecError(
                .truncated,
                "chunk \(index) of \(header.chunkCount): table at offset \(tableOffset) needs \(tableLength) bytes, "
                    + "input ended after \(tableBytes.count)")
        }
        table = try ChunkTable(decoding: tableBytes, header: header, chunkIndex: index)
        chunkIndex = index

        let payloadLength = table.payloadLength  // <= raw length <= chunk size, checked by ChunkTable
        let payloadOffset = source.offset
        payload = try source.next(payloadLength, copyingInto: payloadCopy)
        guard payload.count == payloadLength else {
            throw CodecError(
                .truncated,
                "chunk \(index) of \(header.chunkCount): payload at offset \(payloadOffset) needs \(payloadLength) "
                    + "bytes, input ended after \(payload.count)")
        }

        if let output {
            let start = index * header.chunkSize
            destination = UnsafeMutableRawBufferPointer(rebasing: output[start..<(start + table.rawLength)])
        } else {
            rawBuffer.reserve(table.rawLength)
            destination = UnsafeMutableRawBufferPointer(rebasing: rawBuffer.bytes[0..<table.rawLength])
        }
    }

    func decode(with decoder: ChunkDecoder) throws {
        try decoder.decode(payload, table: table, chunkIndex: chunkIndex, into: destination)
    }
}
