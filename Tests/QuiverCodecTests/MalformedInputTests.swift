import Testing

@testable import QuiverCodec

// MARK: - Malformed containers
//
// Layout used for offsets below (element width 4): header 0..<20; chunk 0 table at 20: raw length u32 at 20,
// plane k mode at 24 + 5k and encoded length at 25 + 5k; payload from 44.

@Suite struct MalformedInputTests {
    /// Three chunks of F32 weights (256, 256 and 100 bytes), so planes 0–2 are stored and plane 3 deflated.
    static let valid = try! TensorCodec.compress(
        SampleWeights.normal(count: 153, standardDeviation: 0.02, format: .f32, seed: 8), elementWidth: 4,
        chunkSize: 256)

    private func expectError(_ kind: CodecError.Kind, mentioning text: String = "", in bytes: [UInt8]) {
        for threadCount in [1, 2] {
            do {
                _ = try TensorCodec.decompress(bytes, threadCount: threadCount)
                Issue.record("decoded malformed input; expected \(kind)")
            } catch let error as CodecError {
                #expect(error.kind == kind, "\(error)")
                #expect(text.isEmpty || error.message.contains(text), "\(error)")
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        // The streaming reader must agree with the in-memory one.
        #expect(throws: CodecError.self) { _ = try Streaming.decompress(bytes, readSize: 7) }
    }

    private func with(_ bytes: [UInt8], _ value: some FixedWidthInteger, at offset: Int) -> [UInt8] {
        var copy = bytes
        copy.withUnsafeMutableBytes { $0.storeLittleEndian(value, at: offset) }
        return copy
    }

    // MARK: Header

    @Test func badMagic() {
        expectError(.badMagic, mentioning: "QVBP", in: with(Self.valid, UInt8(ascii: "X"), at: 0))
        expectError(.badMagic, in: Array("PK\u{3}\u{4}".utf8))
    }

    @Test func unsupportedVersion() {
        expectError(.unsupportedVersion, mentioning: "version 2", in: with(Self.valid, UInt8(2), at: 4))
    }

    @Test func invalidHeaderFields() {
        expectError(.invalidHeader, mentioning: "element width 3", in: with(Self.valid, UInt8(3), at: 5))
        expectError(.invalidHeader, mentioning: "reserved flags", in: with(Self.valid, UInt16(1), at: 6))
        expectError(.invalidHeader, mentioning: "chunk size 0", in: with(Self.valid, UInt32(0), at: 8))
        expectError(.invalidHeader, mentioning: "chunk size", in: with(Self.valid, UInt32(1 << 30), at: 8))
        expectError(.invalidHeader, mentioning: "multiple", in: with(Self.valid, UInt32(258), at: 8))
        expectError(.invalidHeader, mentioning: "raw length", in: with(Self.valid, UInt64.max, at: 12))
    }

    @Test func declaredTotalBeyondWhatTheInputCanHold() {
        // In memory this is refused before anything is allocated for the output.
        let bomb = with(Self.valid, UInt64(1) << 40, at: 12)
        expectError(.invalidHeader, mentioning: "more than", in: bomb)
    }

    // MARK: Truncation and trailing bytes

    @Test func everyProperPrefixIsTruncated() {
        for length in 0..<Self.valid.count {
            let prefix = Array(Self.valid.prefix(length))
            #expect(throws: CodecError.self) { _ = try TensorCodec.decompress(prefix) }
            do {
                _ = try TensorCodec.decompress(prefix, threadCount: 2)
            } catch let error as CodecError {
                #expect(
                    error.kind == .truncated || (length > 1000 && error.kind == .invalidHeader), "\(length): \(error)")
            } catch {
                Issue.record("\(length): unexpected error \(error)")
            }
        }
        expectError(.truncated, mentioning: "chunk 2 of 3", in: Array(Self.valid.dropLast(5)))
    }

    @Test func trailingGarbage() {
        expectError(.trailingData, mentioning: "offset \(Self.valid.count)", in: Self.valid + [0])
        expectError(.trailingData, in: Self.valid + Self.valid)
    }

    // MARK: Chunk tables

    @Test func totalDisagreesWithChunks() {
        expectError(.invalidChunk, mentioning: "chunk 2", in: with(Self.valid, UInt64(256 * 2 + 99), at: 12))
        expectError(.invalidChunk, mentioning: "chunk 2", in: with(Self.valid, UInt64(256 * 2 + 101), at: 12))
        // One chunk fewer than stored: the rest is trailing data.
        expectError(.trailingData, in: with(Self.valid, UInt64(256 * 2), at: 12))
    }

    @Test func chunkRawLengthDisagreesWithHeader() {
        expectError(.invalidChunk, mentioning: "chunk 0: raw length 252", in: with(Self.valid, UInt32(252), at: 20))
    }

    @Test func unknownPlaneMode() {
        expectError(.invalidChunk, mentioning: "plane 1: unknown mode 7", in: with(Self.valid, UInt8(7), at: 29))
    }

    @Test func planeLengthsThatDoNotAddUp() {
        expectError(.invalidChunk, mentioning: "stored plane", in: with(Self.valid, UInt32(65), at: 25))
        expectError(.invalidChunk, mentioning: "deflated plane of 65", in: with(Self.valid, UInt32(65), at: 40))
        expectError(.invalidChunk, mentioning: "deflated plane of 0", in: with(Self.valid, UInt32(0), at: 40))
    }

    // MARK: Plane contents

    @Test func corruptDeflateData() throws {
        let deflatedLength = Int(Self.valid.withUnsafeBytes { $0.loadLittleEndian(at: 40, as: UInt32.self) })
        let deflatedStart = 44 + 3 * 64
        var corrupt = Self.valid
        for offset in deflatedStart..<(deflatedStart + deflatedLength) { corrupt[offset] = 0xff }
        expectError(.corruptPlane, mentioning: "chunk 0 plane 3", in: corrupt)
    }

    @Test func planeInflatingShortOfItsDeclaredLength() throws {
        let container = try handmadeContainer(
            elementWidth: 1, rawLength: 1000, deflating: [UInt8](repeating: 1, count: 999))
        expectError(.corruptPlane, mentioning: "inflates to 999 bytes, declared 1000", in: container)
    }

    @Test func planeInflatingBeyondItsDeclaredLengthIsStopped() throws {
        // 16 MiB of zeros deflate to ~16 KiB; declared as a 64 KiB plane, decoding stops at 64 KiB.
        let container = try handmadeContainer(
            elementWidth: 1, rawLength: 64 << 10, deflating: [UInt8](repeating: 0, count: 16 << 20))
        expectError(.planeOverflow, mentioning: "beyond its declared 65536 bytes", in: container)
    }

    @Test func errorsAreReportedInStreamOrderAcrossWindows() throws {
        // 20 chunks; with 2 threads the reader fills chunks 16–19 while it decodes 12–15. A corrupt chunk 13 must
        // win over the truncation found later in chunk 17.
        let container = try TensorCodec.compress(
            SampleWeights.normal(count: 20 * 64, standardDeviation: 0.02, format: .f32, seed: 11), elementWidth: 4,
            chunkSize: 256)
        let starts = try chunkStarts(container)
        var broken = Array(container.prefix(starts[17] + 30))
        let tableLength = ChunkTable.byteCount(elementWidth: 4)
        let planeStart = starts[13] + tableLength + 3 * 64
        for offset in planeStart..<(planeStart + 10) { broken[offset] = 0xff }
        expectError(.corruptPlane, mentioning: "chunk 13 plane 3", in: broken)
    }

    /// Where each chunk's table starts.
    private func chunkStarts(_ container: [UInt8]) throws -> [Int] {
        try container.withUnsafeBytes { bytes in
            let header = try ContainerHeader(decoding: bytes)
            var starts: [Int] = []
            var offset = ContainerHeader.byteCount
            for index in 0..<header.chunkCount {
                starts.append(offset)
                let table = try ChunkTable(
                    decoding: UnsafeRawBufferPointer(rebasing: bytes[offset...]), header: header, chunkIndex: index)
                offset += ChunkTable.byteCount(elementWidth: header.elementWidth) + table.payloadLength
            }
            return starts
        }
    }

    /// A one-chunk container whose single plane is `content` deflated, declared as `rawLength` bytes.
    private func handmadeContainer(elementWidth: Int, rawLength: Int, deflating content: [UInt8]) throws -> [UInt8] {
        var deflated = [UInt8](repeating: 0, count: content.count + 1024)
        let length = try content.withUnsafeBytes { plane in
            try deflated.withUnsafeMutableBytes { try PlaneDeflater().deflate(plane, strategy: .runLength, into: $0) }
        }
        deflated = Array(deflated.prefix(try #require(length)))
        let header = try ContainerHeader(elementWidth: elementWidth, chunkSize: rawLength, rawLength: rawLength)
        var table = [UInt8](repeating: 0, count: ChunkTable.byteCount(elementWidth: 1))
        table.withUnsafeMutableBytes {
            ChunkTable(rawLength: rawLength, planes: [PlaneEntry(mode: .deflated, encodedLength: deflated.count)])
                .encode(into: $0)
        }
        return header.encoded() + table + deflated
    }
}

// MARK: - Bad arguments and bad sources

@Suite struct InvalidArgumentTests {
    private func expectKind(_ kind: CodecError.Kind, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected \(kind)")
        } catch let error as CodecError {
            #expect(error.kind == kind, "\(error)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func unusableParameters() {
        let input = [UInt8](repeating: 1, count: 100)
        expectKind(.invalidArgument) { _ = try TensorCodec.compress(input, elementWidth: 3) }
        expectKind(.invalidArgument) { _ = try TensorCodec.compress(input, elementWidth: 4, chunkSize: 10) }
        expectKind(.invalidArgument) { _ = try TensorCodec.compress(input, elementWidth: 4, chunkSize: 4098) }
        expectKind(.invalidArgument) { _ = try TensorCodec.compress(input, elementWidth: 4, threadCount: 0) }
        expectKind(.invalidArgument) { _ = try TensorCodec.decompress(input, threadCount: -1) }
    }

    @Test func sourceShorterOrLongerThanDeclared() {
        let input = TestBytes.random(count: 1000, seed: 2)
        for declared in [999, 1001, 5000] {
            expectKind(.sourceLengthMismatch) {
                _ = try TensorCodec.compress(
                    rawLength: declared, elementWidth: 4, chunkSize: 256,
                    from: Streaming.source(input, readSize: 100), to: { _ in })
            }
        }
    }

    @Test func sourceClaimingMoreThanItsBuffer() {
        expectKind(.invalidArgument) {
            _ = try TensorCodec.compress(rawLength: 10, elementWidth: 1, from: { $0.count + 1 }, to: { _ in })
        }
    }

    @Test func sinkErrorsPassThrough() {
        struct DiskFull: Error {}
        #expect(throws: DiskFull.self) {
            _ = try TensorCodec.compress(
                rawLength: 10, elementWidth: 1, from: Streaming.source([UInt8](repeating: 0, count: 10), readSize: 10),
                to: { _ in throw DiskFull() })
        }
    }
}
