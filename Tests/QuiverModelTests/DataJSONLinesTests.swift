import Foundation
import Testing

@testable import QuiverModel
import QuiverStore

/// JSON Lines: fields, label kinds, blank lines, line numbers in errors, limits.
@Suite struct DataJSONLinesTests {
    @Test func readsTextsPairsAndLabels() throws {
        let data = try DataFiles.parse("""
            {"text": "good film", "label": "positive"}

            {"text": "is it?", "text_pair": "yes", "label": "negative", "id": 7}
               \t
            {"label": "positive", "text": "", "text_pair": null}
            {"text": "é \\u00e9 \\n", "text_pair": "", "label": "negative"}
            """, name: "train.jsonl")
        #expect(data.format == .jsonLines)
        #expect(data.rows == [
            .init("good film", nil, "positive", 1), .init("is it?", "yes", "negative", 3),
            .init("", nil, "positive", 5), .init("é é \n", nil, "negative", 6),
        ])
        #expect(data.labels == ["negative", "positive"])
        #expect(!data.integerLabels)
        #expect(data.pairs == [nil, "yes", nil, nil])
        #expect(data.labelIndices == [1, 0, 1, 0])
    }

    @Test func crlfLineEndingsAndByteOrderMark() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("{\"text\": \"a\", \"label\": \"x\"}\r\n\r\n{\"text\": \"b\", \"label\": \"y\"}\r\n".utf8)
        let data = try Dataset(bytes: bytes, source: "d.jsonl")
        #expect(data.rows == [.init("a", nil, "x", 1), .init("b", nil, "y", 3)])
        #expect(data.digest == Digest.of(bytes))
        #expect(data.byteCount == bytes.count)
    }

    @Test func integerLabelsAreKeptAsDigitsAndSortedNumerically() throws {
        let data = try DataFiles.parse("""
            {"text": "a", "label": 10}
            {"text": "b", "label": 2}
            {"text": "c", "label": 0}
            """, name: "d.jsonl")
        #expect(data.integerLabels)
        #expect(data.labels == ["0", "2", "10"])
        #expect(data.examples.map(\.label) == ["10", "2", "0"])
        // A label written as a string stays a name, even when it is made of digits.
        let mixed = try DataFiles.parse("{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": \"1\"}\n", name: "d.jsonl")
        #expect(!mixed.integerLabels)
    }

    @Test(arguments: [
        ("{\"text\": \"c\", \"label\": ", "d.jsonl:4: invalid JSON: unexpected end of input"),
        ("{\"text\": \"c\", \"label\": \"x\"} trailing", "d.jsonl:4: invalid JSON: unexpected data after the JSON value"),
        ("{\"text\": \"c\", \"text\": \"d\", \"label\": \"x\"}", "d.jsonl:4: invalid JSON: duplicate key \"text\""),
        ("[{\"text\": \"c\", \"label\": \"x\"},", "d.jsonl:4: expected one JSON object per line (JSON Lines)"),
        ("[\"c\", \"x\"]", "d.jsonl:4: expected a JSON object, found an array"),
        ("\"just text\"", "d.jsonl:4: expected a JSON object, found a string"),
        ("{\"label\": \"x\"}", "d.jsonl:4: missing \"text\""),
        ("{\"text\": null, \"label\": \"x\"}", "d.jsonl:4: missing \"text\""),
        ("{\"text\": 5, \"label\": \"x\"}", "d.jsonl:4: \"text\" must be a string, found the integer 5"),
        ("{\"text\": \"c\", \"text_pair\": [\"d\"], \"label\": \"x\"}", "d.jsonl:4: \"text_pair\" must be a string or null, found an array"),
        ("{\"text\": \"c\"}", "d.jsonl:4: missing \"label\""),
        ("{\"text\": \"c\", \"label\": null}", "d.jsonl:4: missing \"label\""),
        ("{\"text\": \"c\", \"label\": \"\"}", "d.jsonl:4: empty \"label\""),
        ("{\"text\": \"c\", \"label\": 1.5}", "d.jsonl:4: \"label\" must be a string or a non-negative integer, found the number 1.5"),
        ("{\"text\": \"c\", \"label\": -1}", "d.jsonl:4: \"label\" must be a string or a non-negative integer, found the integer -1"),
        ("{\"text\": \"c\", \"label\": true}", "d.jsonl:4: \"label\" must be a string or a non-negative integer, found a boolean (true)"),
        ("{\"text\": \"c\", \"label\": {\"name\": \"x\"}}", "d.jsonl:4: \"label\" must be a string or a non-negative integer, found an object"),
    ])
    func aBadRowNamesItsLine(_ row: String, _ expected: String) throws {
        // Line 2 is blank: line numbers count every line of the file. Rows after the bad one are not read.
        let text = "{\"text\": \"a\", \"label\": \"x\"}\n\n{\"text\": \"b\", \"label\": \"y\"}\n\(row)\n{\"text\": \"e\"}\n"
        let message = try #require(DataFiles.error(text, name: "d.jsonl"))
        #expect(message.hasPrefix(expected), "\(message)")
    }

    @Test func invalidUTF8IsABadRow() throws {
        let bytes = Array("{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"".utf8) + [0xC3, 0x28] + Array("\", \"label\": \"x\"}\n".utf8)
        let message = try #require(DataFiles.error { _ = try Dataset(bytes: bytes, source: "d.jsonl") })
        #expect(message.hasPrefix("d.jsonl:2: invalid JSON"), "\(message)")
    }

    @Test func emptyDatasetsAreRefused() throws {
        #expect(DataFiles.error("", name: "d.jsonl") == "d.jsonl: no examples (the file is empty)")
        #expect(DataFiles.error("\n  \n\r\n", name: "d.jsonl") == "d.jsonl: no examples (only blank lines)")
    }

    @Test func lastLineWithoutNewline() throws {
        let data = try DataFiles.parse("{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\", \"label\": \"y\"}", name: "d.json")
        #expect(data.rows == [.init("a", nil, "x", 1), .init("b", nil, "y", 2)])
    }

    @Test func everyChunkSizeReadsTheSame() throws {
        let text = "\u{FEFF}{\"text\": \"ab\", \"label\": \"x\"}\r\n\n{\"text\": \"c\", \"text_pair\": \"d\", \"label\": 3}\r\n{\"text\": \"é\", \"label\": \"y\"}"
        let path = try DataFiles.write(text, name: "d.jsonl")
        let whole = try Dataset.load(path: path)
        #expect(whole.rows == [.init("ab", nil, "x", 1), .init("c", "d", "3", 3), .init("é", nil, "y", 4)])
        for data in try DataFiles.loadInChunks(path) {
            #expect(data.rows == whole.rows)
            #expect(data.digest == whole.digest)
        }
    }

    @Test func aLineOverTheRowLimitIsRefused() throws {
        let long = String(repeating: "a", count: 300)
        let path = try DataFiles.write("{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"\(long)\", \"label\": \"x\"}\n", name: "d.jsonl")
        for chunkSize in [7, 4096] {
            let message = DataFiles.error {
                _ = try Dataset.load(path: path, format: nil, maximumFileBytes: 1 << 20, maximumRowBytes: 256, chunkSize: chunkSize)
            }
            #expect(message == "\(path):2: line longer than 256 bytes, the limit for one example")
        }
        // The real limit: 1 MiB.
        let big = try DataFiles.write("{\"text\": \"\(String(repeating: "b", count: 1 << 20))\", \"label\": \"x\"}\n", name: "big.jsonl")
        #expect(DataFiles.error { _ = try Dataset.load(path: big) } == "\(big):1: line longer than 1 MiB, the limit for one example")
    }
}
