import Testing

@testable import QuiverCodec

// MARK: - Compression ratios on adapter-like weights

@Suite struct CompressionRatioTests {
    /// N(0, 0.02) weights, 1 MiB of F32.
    static let f32Weights = SampleWeights.normal(count: 1 << 18, standardDeviation: 0.02, format: .f32, seed: 42)

    @Test func f32WeightsStoreAtMost86PercentOfRaw() throws {
        let encoded = try TensorCodec.compress(Self.f32Weights, elementWidth: 4)
        let ratio = Double(encoded.count) / Double(Self.f32Weights.count)
        #expect(ratio <= 0.86, "F32 N(0, 0.02): stored/raw = \(ratio)")
    }

    @Test func halfPrecisionWeightsCompressToo() throws {
        for (format, bound) in [(SampleFloatFormat.bf16, 0.70), (.f16, 0.87)] {
            let input = SampleWeights.normal(count: 1 << 18, standardDeviation: 0.02, format: format, seed: 42)
            let encoded = try TensorCodec.compress(input, elementWidth: 2)
            let ratio = Double(encoded.count) / Double(input.count)
            #expect(ratio <= bound, "\(format.rawValue) N(0, 0.02): stored/raw = \(ratio)")
        }
    }

    @Test func onlyTheExponentPlaneOfF32IsDeflated() throws {
        let encoded = try TensorCodec.compress(Self.f32Weights, elementWidth: 4)
        let modes = try encoded.withUnsafeBytes { bytes in
            let header = try ContainerHeader(decoding: bytes)
            let table = try ChunkTable(
                decoding: UnsafeRawBufferPointer(rebasing: bytes[ContainerHeader.byteCount...]), header: header,
                chunkIndex: 0)
            return table.planes.map(\.mode)
        }
        #expect(modes == [.stored, .stored, .stored, .deflated])
    }

    @Test func policyPicksRunLengthForNearlyConstantPlanes() {
        let mostlyZero: [UInt8] = (0..<10_000).map { (index: Int) -> UInt8 in index % 50 == 0 ? 1 : 0 }
        let random = TestBytes.random(count: 10_000, seed: 1)
        let skewed: [UInt8] = (0..<10_000).map { (index: Int) -> UInt8 in
            UInt8(index % 7 == 0 ? index % 5 : 60 + index % 3)
        }
        mostlyZero.withUnsafeBytes { #expect(PlaneEncodingPolicy.encoding(for: $0) == .deflated(.runLength)) }
        random.withUnsafeBytes { #expect(PlaneEncodingPolicy.encoding(for: $0) == .stored) }
        skewed.withUnsafeBytes { #expect(PlaneEncodingPolicy.encoding(for: $0) == .deflated(.huffmanOnly)) }
    }
}

// MARK: - Entropy estimate

@Suite struct EntropyEstimateTests {
    @Test func sampledEstimateIsCloseToTheExactEntropy() {
        let random = TestBytes.random(count: 1 << 20, seed: 3)
        let twoValues: [UInt8] = TestBytes.random(count: 1 << 20, seed: 4).map { $0 & 1 }
        random.withUnsafeBytes { #expect(abs(PlaneEncodingPolicy.estimatedEntropyBitsPerByte(of: $0) - 8) < 0.01) }
        twoValues.withUnsafeBytes { #expect(abs(PlaneEncodingPolicy.estimatedEntropyBitsPerByte(of: $0) - 1) < 0.01) }
        [UInt8](repeating: 9, count: 1000).withUnsafeBytes {
            #expect(PlaneEncodingPolicy.estimatedEntropyBitsPerByte(of: $0) == 0)
        }
    }
}
