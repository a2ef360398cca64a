// Fuzz target: QuiverCodec containers (QVBP header, chunk tables, deflated planes), in memory and streamed.
// Built into module QuiverCodec by scripts/fuzz.sh; see docs/fuzzing.md.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCodec(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    // 1. Decoding outside input: an error or bytes, never a trap, never more than the header's raw length.
    let inMemory = try? TensorCodec.decompress(bytes, threadCount: 1)
    var offset = 0
    var streamed: [UInt8] = []
    let counts = try? TensorCodec.decompress(
        threadCount: 2,
        from: { buffer in
            let count = min(buffer.count, bytes.count - offset)
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]))
            offset += count
            return count
        },
        to: { streamed.append(contentsOf: $0) })
    if let inMemory {
        guard let counts, counts.raw == inMemory.count, streamed == inMemory else {
            fatalError("in-memory and streamed decoding disagree")
        }
        let header = try! ContainerHeader(decoding: bytes)
        guard header.rawLength == inMemory.count else { fatalError("decoded length differs from the header's") }
    } else if counts != nil {
        fatalError("streamed decoding accepted what in-memory decoding refused")
    }
    // 2. Round trip: whatever the input, compressing then decompressing gives it back.
    if size > 0 {
        let width = [1, 2, 4, 8][Int(data[0] & 3)]
        let chunk = 64 * width * (1 + Int(data[0] >> 2) % 4)
        let packed = try! TensorCodec.compress(bytes, elementWidth: width, chunkSize: chunk, threadCount: 1)
        guard (try? TensorCodec.decompress(packed, threadCount: 2)) == Array(bytes) else {
            fatalError("round trip lost bytes (width \(width), chunk \(chunk))")
        }
    }
    return 0
}
