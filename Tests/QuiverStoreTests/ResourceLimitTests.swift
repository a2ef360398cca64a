import Foundation
@testable import QuiverCodec
import QuiverTensor
import Testing
@testable import QuiverStore
import QuiverModel

/// Outside input that would cost memory out of proportion to its size is refused before the memory is spent:
/// compressed blobs that expand beyond their recorded size, and configs whose counts size allocations.
@Suite struct ResourceLimitTests {
    // MARK: - Decompression bombs

    /// 4 MiB of zeros in QuiverCodec's container: a few KiB stored.
    static let bomb: [UInt8] = try! TensorCodec.compress([UInt8](repeating: 0, count: 4 << 20), elementWidth: 4)

    @Test func containerDeclaringMoreThanItsRecordedSizeIsRefusedBeforeDecoding() throws {
        #expect(Self.bomb.count < 64 << 10)
        var delivered = 0
        let error = try #require(throws: QuiverError.self) {
            try Self.bomb.withUnsafeBytes { stored in
                try PlaneCoding.decode(stored, contentLimit: 1000) { delivered += $0.count }
            }
        }
        #expect(error.kind == .corrupt)
        #expect(error.message.contains("declares 4194304 bytes") && error.message.contains("refused before decoding"), "\(error)")
        #expect(delivered == 0)
    }

    @Test func receivedBlobThatExpandsBeyondItsDescriptorIsNotStored() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-bomb-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let store = BlobStore(home: home)
        try FileManager.default.createDirectory(atPath: store.temporaryDirectory, withIntermediateDirectories: true)
        // A remote announces 1000 bytes of content and sends the bomb (its stored digest is right).
        let descriptor = BlobDescriptor(
            digest: Digest.of(Self.bomb), size: Self.bomb.count, contentDigest: Digest.of([UInt8](repeating: 0, count: 1000)),
            contentSize: 1000, encoding: .planes)
        let received = home + "/received"
        try write(Self.bomb, to: received)
        var delivered = 0
        let error = try #require(throws: QuiverError.self) {
            _ = try store.receive(descriptor, from: received) { delivered += $0.count }
        }
        #expect(error.kind == .corrupt && error.message.contains("refused before decoding"), "\(error)")
        #expect(delivered == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.temporaryDirectory).isEmpty)
    }

    @Test func planeInflatingBeyondItsChunkStopsAtTheRecordedSize() throws {
        // The header tells the truth (64 KiB) but the plane's deflate stream holds 4 MiB: the codec stops the
        // plane at its declared length, so at most the recorded size is ever produced.
        var deflated = [UInt8](repeating: 0, count: 64 << 10)
        let zeros = [UInt8](repeating: 0, count: 4 << 20)
        let length = try zeros.withUnsafeBytes { plane in
            try deflated.withUnsafeMutableBytes { try PlaneDeflater().deflate(plane, strategy: .runLength, into: $0) }
        }
        deflated = Array(deflated.prefix(try #require(length)))
        var table = [UInt8](repeating: 0, count: ChunkTable.byteCount(elementWidth: 1))
        table.withUnsafeMutableBytes {
            ChunkTable(rawLength: 64 << 10, planes: [PlaneEntry(mode: .deflated, encodedLength: deflated.count)]).encode(into: $0)
        }
        let container = try ContainerHeader(elementWidth: 1, chunkSize: 64 << 10, rawLength: 64 << 10).encoded() + table + deflated
        var delivered = 0
        let error = try #require(throws: QuiverError.self) {
            try container.withUnsafeBytes { stored in
                try PlaneCoding.decode(stored, contentLimit: 64 << 10) { delivered += $0.count }
            }
        }
        #expect(error.message.contains("beyond its declared 65536 bytes"), "\(error)")
        #expect(delivered == 0)
    }

    // MARK: - Counts in configs

    /// Found by `scripts/fuzz.sh configs`: `num_labels` sized the label list before anything checked it, so a
    /// negative count trapped (`0..<-1`) and a huge one exhausted memory.
    @Test(arguments: [-1, Int(Int32.max), HeadConfig.maximumLabels + 1])
    func headLabelCountOutsideTheLimitIsRefused(_ count: Int) throws {
        let json = try JSONParser.parse(#"{"config": {"head_type": "classification", "num_labels": \#(count)}}"#)
        let error = try #require(throws: QuiverError.self) { try HeadConfig(json: json, source: "head_config.json") }
        #expect(error.kind == .invalidInput && error.message.contains("head_config.json: num_labels \(count)"), "\(error)")
    }

    @Test func headLabelCountWithinTheLimitIsAccepted() throws {
        let json = try JSONParser.parse(#"{"config": {"head_type": "classification", "num_labels": 3}}"#)
        #expect(try HeadConfig(json: json, source: "head_config.json").labels == ["LABEL_0", "LABEL_1", "LABEL_2"])
    }

    /// Found by `scripts/fuzz.sh configs`: a tiny positive `reduction_factor` made the bottleneck size
    /// `hidden / factor` overflow `Int` (a trap in `bottleneckSize`) or ask for more memory than exists.
    @Test(arguments: [#"1e-300"#, #"0.001"#, #"{"default": 1e-300}"#, #"{"3": 0.01}"#])
    func reductionFactorBelowTheLimitIsRefused(_ factor: String) throws {
        let json = try JSONParser.parse(#"{"output_adapter": true, "reduction_factor": \#(factor)}"#)
        let error = try #require(throws: QuiverError.self) { try BottleneckConfig(json: json, source: "adapter_config.json") }
        #expect(error.kind == .invalidInput && error.message.contains("at least 1/64"), "\(error)")
    }

    @Test func smallestReductionFactorGivesABoundedBottleneck() throws {
        let json = try JSONParser.parse(#"{"output_adapter": true, "reduction_factor": 0.015625}"#)
        #expect(try BottleneckConfig(json: json, source: "adapter_config.json").bottleneckSize(layer: 0, hiddenSize: 768) == 768 * 64)
    }
}
