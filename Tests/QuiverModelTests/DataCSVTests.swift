import Foundation
import Testing

@testable import QuiverModel

/// CSV and TSV: header columns, RFC 4180 quoting, line endings, line numbers in errors.
@Suite struct DataCSVTests {
    @Test func columnsInAnyOrderAndExtraColumnsIgnored() throws {
        let data = try DataFiles.parse("id,label,source, text \n1,positive,web,good film\n2,negative,,bad film\n", name: "d.csv")
        #expect(data.format == .csv)
        #expect(data.rows == [.init("good film", nil, "positive", 2), .init("bad film", nil, "negative", 3)])
        #expect(data.pairs == nil)
    }

    @Test func quotedFields() throws {
        let data = try DataFiles.parse(#"""
            text,text_pair,label
            "a, b",c,x
            "she said ""hi""",,y
            "two
            lines","and ""three""
            ",x
            5" screen,"",y
            "",d,"x"
            after,the,x
            """#, name: "d.csv")
        #expect(data.rows == [
            .init("a, b", "c", "x", 2),
            .init(#"she said "hi""#, nil, "y", 3),
            .init("two\nlines", "and \"three\"\n", "x", 4),
            .init(#"5" screen"#, nil, "y", 7),  // a quote inside an unquoted field is kept
            .init("", "d", "x", 8),
            .init("after", "the", "x", 9),
        ])
    }

    @Test func crlfByteOrderMarkAndEmptyLines() throws {
        let bytes: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("text,label\r\n\r\n\"one\r\ntwo\",x\r\nthree,y\r\n\r\nfour,x".utf8)
        let data = try Dataset(bytes: bytes, source: "d.csv")
        // A CRLF inside quotes is part of the value; outside, it ends the record and counts as one line.
        #expect(data.rows == [.init("one\r\ntwo", nil, "x", 3), .init("three", nil, "y", 5), .init("four", nil, "x", 7)])
    }

    @Test func lonelyCarriageReturnsEndRecords() throws {
        let data = try DataFiles.parse("text,label\ra,x\rb,y\r", name: "d.csv")
        #expect(data.rows == [.init("a", nil, "x", 2), .init("b", nil, "y", 3)])
    }

    @Test func tabSeparated() throws {
        let data = try DataFiles.parse("label\ttext\ttext_pair\nx\ta, b\t\"c\td\"\ny\te\t\n", name: "d.tsv")
        #expect(data.format == .tsv)
        #expect(data.rows == [.init("a, b", "c\td", "x", 2), .init("e", nil, "y", 3)])
    }

    @Test func digitLabelsAreIntegers() throws {
        let data = try DataFiles.parse("text,label\na,1\nb,0\nc,12\nd,1\n", name: "d.csv")
        #expect(data.integerLabels)
        #expect(data.labels == ["0", "1", "12"])
        #expect(data.labelIndices == [1, 0, 2, 1])
        for label in ["01", "-1", "1.0", " 1", "x"] {
            #expect(!(try DataFiles.parse("text,label\na,1\nb,\(label)\n", name: "d.csv")).integerLabels, "\(label)")
        }
    }

    @Test func labelsSortByCodePoints() throws {
        let data = try DataFiles.parse("text,label\na,b\nb,B\nc,é\nd,a\ne,b\n", name: "d.csv")
        #expect(data.labels == ["B", "a", "b", "é"])
    }

    @Test(arguments: [
        ("a,x\n\"b,y\nc,x\n", "d.csv:3: unterminated quote: the quoted field opened on this line is never closed"),
        ("a,x\nb,y,z\n", "d.csv:3: 3 fields, the header has 2"),
        ("a,x\nb\n", "d.csv:3: 1 field, the header has 2"),
        ("a,x\n\"b\"c,x\n", "d.csv:3: unexpected character after the closing quote of a field"),
        ("a,x\nb,\n", "d.csv:3: empty \"label\""),
        ("a,x\nb,\"\"\n", "d.csv:3: empty \"label\""),
        ("\"a\nstill a\",x\nb,\"\"\n", "d.csv:4: empty \"label\""),
    ])
    func aBadRowNamesItsLine(_ rows: String, _ expected: String) throws {
        let message = try #require(DataFiles.error("text,label\n" + rows, name: "d.csv"))
        #expect(message.hasPrefix(expected), "\(message)")
    }

    @Test(arguments: [
        ("text,category\na,x\n", "d.csv:1: the header has no \"label\" column (found \"text\", \"category\"; columns are comma-separated)"),
        ("label;text\nx;a\n", "d.csv:1: the header has no \"text\" column (found \"label;text\"; columns are comma-separated)"),
        ("text,label,text\na,x,b\n", "d.csv:1: the header names the column \"text\" twice"),
        ("\n\ntext,label\n", "d.csv: no examples (only a header row)"),
        ("", "d.csv: no examples (the file is empty)"),
        ("\n\r\n", "d.csv: no examples (only blank lines, no header row)"),
    ])
    func badHeadersAndEmptyFiles(_ text: String, _ expected: String) throws {
        #expect(DataFiles.error(text, name: "d.csv") == expected)
    }

    @Test func invalidUTF8NamesItsLine() throws {
        let bytes = Array("text,label\na,x\n".utf8) + [0xFF] + Array(",y\n".utf8)
        #expect(DataFiles.error { _ = try Dataset(bytes: bytes, source: "d.csv") } == "d.csv:3: not valid UTF-8")
    }

    @Test func everyChunkSizeReadsTheSame() throws {
        let text = "\u{FEFF}text,text_pair,label\r\n\"a\r\n\"\"b\"\"\",c,x\r\n\r\nd,,\"y\"\r\n\"e,f\",g,x"
        let path = try DataFiles.write(text, name: "d.csv")
        let whole = try Dataset.load(path: path)
        #expect(whole.rows == [.init("a\r\n\"b\"", "c", "x", 2), .init("d", nil, "y", 5), .init("e,f", "g", "x", 6)])
        for data in try DataFiles.loadInChunks(path) { #expect(data.rows == whole.rows) }
    }

    @Test func aRowOverTheLimitIsRefused() throws {
        let long = String(repeating: "a", count: 300)
        let path = try DataFiles.write("text,label\n\(long),x\n", name: "d.csv")
        let message = DataFiles.error { _ = try Dataset.load(path: path, format: nil, maximumFileBytes: 1 << 20, maximumRowBytes: 256) }
        #expect(message == "\(path):2: row longer than 256 bytes, the limit for one example")
        // An unclosed quote swallows the rest of the file: the limit stops it and says why that may be.
        let open = try DataFiles.write("text,label\na,x\n\"b,y\n" + String(repeating: "c,x\n", count: 100), name: "d.csv")
        let unclosed = DataFiles.error { _ = try Dataset.load(path: open, format: nil, maximumFileBytes: 1 << 20, maximumRowBytes: 256) }
        #expect(unclosed == "\(open):3: row longer than 256 bytes, the limit for one example (is the quote opened on line 3 closed?)")
    }
}
