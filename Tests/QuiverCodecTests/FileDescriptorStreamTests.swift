import Foundation
import Testing

@testable import QuiverCodec

// MARK: - Streaming through files

@Suite struct FileDescriptorStreamTests {
    @Test func fileToFileRoundTrip() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-codec-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = SampleWeights.normal(count: 300_001, standardDeviation: 0.02, format: .f32, seed: 12)
        let rawURL = directory.appendingPathComponent("raw")
        let packedURL = directory.appendingPathComponent("packed")
        let restoredURL = directory.appendingPathComponent("restored")
        try Data(input).write(to: rawURL)

        let compressed = try withFiles(reading: rawURL, writing: packedURL) { source, sink in
            try TensorCodec.compress(
                rawLength: input.count, elementWidth: 4, chunkSize: 64 << 10, from: source, to: sink)
        }
        let restored = try withFiles(reading: packedURL, writing: restoredURL) { source, sink in
            try TensorCodec.decompress(from: source, to: sink)
        }
        let packedSize = try FileManager.default.attributesOfItem(atPath: packedURL.path)[.size] as? Int
        #expect(compressed == CodecByteCounts(raw: input.count, encoded: packedSize ?? -1))
        #expect(restored == compressed)
        #expect(try Data(contentsOf: restoredURL) == Data(input))
    }

    @Test func readErrorsSurfaceAsPOSIXErrors() {
        #expect(throws: POSIXError.self) {
            _ = try TensorCodec.decompress(from: TensorCodec.source(reading: -1), to: { _ in })
        }
    }

    private func withFiles<Result>(
        reading input: URL, writing output: URL, _ body: (ByteSource, ByteSink) throws -> Result
    ) throws -> Result {
        let reader = open(input.path, O_RDONLY)
        let writer = open(output.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer {
            close(reader)
            close(writer)
        }
        try #require(reader >= 0 && writer >= 0)
        return try body(TensorCodec.source(reading: reader), TensorCodec.sink(writing: writer))
    }
}
