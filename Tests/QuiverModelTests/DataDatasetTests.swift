import Foundation
import Testing

@testable import QuiverModel
@testable import QuiverStore

/// Format detection, digests, file limits and the seeded orders training uses.
@Suite struct DataDatasetTests {
    @Test func formatFromTheExtensionThenTheContent() throws {
        #expect(DataFormat(extensionOf: "a/b/train.JSONL") == .jsonLines)
        #expect(DataFormat(extensionOf: "dev.json") == .jsonLines)
        #expect(DataFormat(extensionOf: "dev.ndjson") == .jsonLines)
        #expect(DataFormat(extensionOf: "x.csv") == .csv)
        #expect(DataFormat(extensionOf: "x.tsv") == .tsv)
        #expect(DataFormat(extensionOf: "x.txt") == nil)
        #expect(DataFormat(extensionOf: "dir.csv/data") == nil)
        #expect(DataFormat(extensionOf: ".csv") == nil)

        let jsonLines = try DataFiles.parse("\n  {\"text\": \"a\", \"label\": \"x\"}\n", name: "data.txt")
        #expect(jsonLines.format == .jsonLines)
        let tsv = try DataFiles.parse("text\tlabel\na, b\tx\n", name: "data")
        #expect(tsv.format == .tsv)
        #expect(tsv.rows == [.init("a, b", nil, "x", 2)])
        let csv = try DataFiles.parse("text,label\na\tb,x\n", name: "data")
        #expect(csv.format == .csv)
        #expect(csv.rows == [.init("a\tb", nil, "x", 2)])
        // The extension wins over the content.
        #expect(DataFiles.error("{\"text\": \"a\", \"label\": \"x\"}\n", name: "d.csv")?.hasPrefix("d.csv:1: the header has no \"text\" column") == true)
    }

    @Test func loadFromAFileRecordsItsDigestAndSize() throws {
        let text = "text,label\nhello,x\n"
        let path = try DataFiles.write(text, name: "d.csv")
        let data = try Dataset.load(path: path)
        #expect(data.source == path)
        #expect(data.digest == Digest.of(Array(text.utf8)))
        // `printf 'text,label\nhello,x\n' | sha256sum`
        #expect(data.digest.description == "sha256:9546f8e3fd9368f12ce17d573285160e9e400b79dbc023751278253bd82ae6d8")
        #expect(data.byteCount == text.utf8.count)
    }

    @Test func missingFilesFoldersAndCompressedFiles() throws {
        #expect(DataFiles.error { _ = try Dataset.load(path: "/nonexistent/d.csv") } == "/nonexistent/d.csv: no such file")
        let folder = FileManager.default.temporaryDirectory.path
        #expect(DataFiles.error { _ = try Dataset.load(path: folder) } == "\(folder): is a folder, not a data file")
        let gzip = try DataFiles.write([0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0], name: "d.csv.gz")
        #expect(DataFiles.error { _ = try Dataset.load(path: gzip) } == "\(gzip): a gzip-compressed file; decompress it first")
    }

    @Test func filesOverOneGibibyteAreRefusedBeforeReading() throws {
        // A sparse file: 1 GiB + 1 byte long, no disk space used, and nothing of it is read.
        let path = try DataFiles.write([], name: "huge.jsonl")
        #expect(truncate(path, off_t(Dataset.maximumFileBytes + 1)) == 0)
        defer { unlink(path) }
        #expect(DataFiles.error { _ = try Dataset.load(path: path) } == "\(path): 1073741825 bytes, over the 1 GiB limit for a data file")
        // Smaller limits, same rule, also for a file that grows while it is read.
        let small = try DataFiles.write("text,label\na,x\n", name: "d.csv")
        #expect(DataFiles.error {
            _ = try Dataset.load(path: small, format: nil, maximumFileBytes: 8, maximumRowBytes: 1 << 20)
        } == "\(small): 15 bytes, over the 8 bytes limit for a data file")
    }

    // MARK: - Orders and batches

    static func dataset(count: Int) throws -> Dataset {
        try DataFiles.parse("text,label\n" + (0..<count).map { "t\($0),\($0 % 3)\n" }.joined(), name: "d.csv")
    }

    @Test func shuffleIsFixedBySeed() throws {
        let data = try Self.dataset(count: 10)
        // Expected orders from a Python transcription of SplitMix64 and the same Fisher–Yates with
        // rejection sampling (run once): the order must not change between platforms or Swift versions.
        #expect(data.shuffledIndices(seed: 42) == [0, 9, 5, 8, 6, 4, 7, 2, 1, 3])
        #expect(data.batches(size: 4, seed: 7, epoch: 0) == [[7, 6, 9, 2], [8, 4, 0, 3], [5, 1]])
        #expect(data.batches(size: 4, seed: 7, epoch: 1) == [[3, 0, 4, 2], [7, 5, 8, 1], [9, 6]])
        #expect(data.batches(size: 4) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        #expect(data.shuffledIndices(seed: 42) == data.shuffledIndices(seed: 42))
        let big = try Self.dataset(count: 1000)
        let order = big.shuffledIndices(seed: 1)
        #expect(order.sorted() == Array(0..<1000))
        #expect(order != big.shuffledIndices(seed: 2))
        #expect(big.batches(size: 32, seed: 1).map(\.count) == Array(repeating: 32, count: 31) + [8])
    }

    @Test func uniformDrawsStayInRange() {
        var generator = SeededGenerator(seed: 3)
        var seen = Set<UInt64>()
        for _ in 0..<2000 {
            let value = Dataset.uniform(below: 7, using: &generator)
            #expect(value < 7)
            seen.insert(value)
        }
        #expect(seen.count == 7)
        #expect(Dataset.uniform(below: 1, using: &generator) == 0)
    }
}
