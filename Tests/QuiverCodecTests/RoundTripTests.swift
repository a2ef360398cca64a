import Testing

@testable import QuiverCodec

// MARK: - Round trips

@Suite struct RoundTripTests {
    @Test(arguments: [1, 2, 4, 8])
    func randomBytesOfAwkwardLengths(width: Int) throws {
        let lengths = [0, 1, width - 1, width, width + 1, 63, 64, 65, 255, 256, 257, 1000, 3 * 256 + 5]
        for length in lengths where length >= 0 {
            let input = TestBytes.random(count: length, seed: UInt64(length))
            let encoded = try TensorCodec.compress(input, elementWidth: width, chunkSize: 256)
            #expect(try TensorCodec.decompress(encoded) == input, "width \(width), \(length) bytes")
        }
    }

    @Test func emptyInputIsJustAHeader() throws {
        let encoded = try TensorCodec.compress([UInt8](), elementWidth: 4)
        #expect(encoded.count == ContainerHeader.byteCount)
        #expect(try TensorCodec.decompress(encoded) == [])
        let header = try encoded.withUnsafeBytes { try ContainerHeader(decoding: $0) }
        #expect(header == (try ContainerHeader(elementWidth: 4, chunkSize: TensorCodec.defaultChunkSize, rawLength: 0)))
    }

    @Test(arguments: SampleFloatFormat.allCases)
    func normalWeightsAcrossManyChunks(format: SampleFloatFormat) throws {
        let input = SampleWeights.normal(count: 50_000, standardDeviation: 0.02, format: format, seed: 1)
        let oneThread = try TensorCodec.compress(
            input, elementWidth: format.elementWidth, chunkSize: 16 << 10, threadCount: 1)
        let twoThreads = try TensorCodec.compress(
            input, elementWidth: format.elementWidth, chunkSize: 16 << 10, threadCount: 2)
        #expect(oneThread == twoThreads, "the encoding must not depend on the thread count")
        #expect(try TensorCodec.decompress(oneThread, threadCount: 1) == input)
        #expect(try TensorCodec.decompress(oneThread, threadCount: 2) == input)
    }

    @Test(arguments: [1, 2, 4, 8])
    func constantDataShrinksToAlmostNothing(width: Int) throws {
        // Zeros, and one element repeated (as in a LayerNorm weight of ones): every plane is constant.
        for pattern: [UInt8] in [[0], Array([0x00, 0x00, 0x80, 0x3f, 0x11, 0x22, 0x33, 0x44].prefix(width))] {
            let input = TestBytes.repeating(pattern, count: 1 << 18)
            let encoded = try TensorCodec.compress(input, elementWidth: width, chunkSize: 64 << 10)
            #expect(encoded.count < input.count / 100, "width \(width): \(encoded.count) bytes")
            #expect(try TensorCodec.decompress(encoded) == input)
        }
    }

    @Test func randomBytesAreStoredWithOnlyTableOverhead() throws {
        let input = TestBytes.random(count: 100_000, seed: 9)
        let encoded = try TensorCodec.compress(input, elementWidth: 4, chunkSize: 32 << 10)
        let chunks = 4
        #expect(
            encoded.count == ContainerHeader.byteCount + chunks * ChunkTable.byteCount(elementWidth: 4) + input.count)
        #expect(try TensorCodec.decompress(encoded) == input)
    }

    @Test func finalChunkShorterThanOneElement() throws {
        let input = TestBytes.random(count: 128 + 3, seed: 4)  // a full chunk, then 3 bytes of tail only
        let encoded = try TensorCodec.compress(input, elementWidth: 8, chunkSize: 128)
        #expect(try TensorCodec.decompress(encoded) == input)
    }

    // MARK: Streaming

    @Test(arguments: [1, 2])
    func streamingMatchesInMemoryAndCountsBytes(threadCount: Int) throws {
        let input = SampleWeights.normal(count: 70_001, standardDeviation: 0.02, format: .bf16, seed: 3) + [7]
        let inMemory = try TensorCodec.compress(input, elementWidth: 2, chunkSize: 4096)
        let (encoded, compressCounts) = try Streaming.compress(
            input, elementWidth: 2, chunkSize: 4096, threadCount: threadCount, readSize: 777)
        #expect(encoded == inMemory)
        #expect(compressCounts == CodecByteCounts(raw: input.count, encoded: encoded.count))

        let (raw, decompressCounts) = try Streaming.decompress(encoded, threadCount: threadCount, readSize: 333)
        #expect(raw == input)
        #expect(decompressCounts == CodecByteCounts(raw: input.count, encoded: encoded.count))
    }

    @Test func sinkReceivesChunksInOrder() throws {
        let input = TestBytes.random(count: 10 * 512 + 100, seed: 5)
        let encoded = try TensorCodec.compress(input, elementWidth: 4, chunkSize: 512)
        var pieces: [[UInt8]] = []
        _ = try TensorCodec.decompress(
            threadCount: 2, from: Streaming.source(encoded, readSize: 4096), to: { pieces.append(Array($0)) })
        #expect(pieces.map(\.count) == Array(repeating: 512, count: 10) + [100])
        #expect(Array(pieces.joined()) == input)
    }
}

// MARK: - Half precision conversions used by the samples

@Suite struct HalfPrecisionTests {
    @Test func float16MatchesKnownValues() {
        #expect(HalfPrecision.float16Bits(1.0) == 0x3c00)
        #expect(HalfPrecision.float16Bits(-2.0) == 0xc000)
        #expect(HalfPrecision.float16Bits(0.0) == 0x0000)
        #expect(HalfPrecision.float16Bits(65504) == 0x7bff)
        #expect(HalfPrecision.float16Bits(65520) == 0x7c00)  // rounds up to infinity
        #expect(HalfPrecision.float16Bits(0x1p-24) == 0x0001)  // smallest subnormal
        #expect(HalfPrecision.float16Bits(0x1p-26) == 0x0000)
        #expect(HalfPrecision.float16Bits(1 + 0x1p-11) == 0x3c00)  // tie to even
        #expect(HalfPrecision.float16Bits(1 + 0x1p-11 + 0x1p-12) == 0x3c01)
        #expect(HalfPrecision.float16Bits(.nan) & 0x7e00 == 0x7e00)
    }

    @Test func bfloat16MatchesKnownValues() {
        #expect(HalfPrecision.bfloat16Bits(1.0) == 0x3f80)
        #expect(HalfPrecision.bfloat16Bits(-0.02) == 0xbca4)
        #expect(HalfPrecision.bfloat16Bits(Float(bitPattern: 0x3f80_8000)) == 0x3f80)  // tie to even
        #expect(HalfPrecision.bfloat16Bits(Float(bitPattern: 0x3f81_8000)) == 0x3f82)
        #expect(HalfPrecision.bfloat16Bits(.nan) & 0x7fc0 == 0x7fc0)
    }
}
