import Testing
@testable import QuiverTensor

/// The strict JSON parser used for every file Quiver reads from outside: safetensors headers, adapter,
/// fusion and head configs, tokenizer files.
@Suite struct JSONParserTests {
    static func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test func parsesNestedDocuments() throws {
        let value = try Self.parse(#" {"a": [1, -2.5e3, true, null, "x\u00e9\ud83d\ude00\n"], "b": {}} "#)
        #expect(value["a"]?.arrayValue?[0] == .integer(1))
        #expect(value["a"]?.arrayValue?[1] == .number(-2500))
        #expect(value["a"]?.arrayValue?[4] == .string("xé😀\n"))
        #expect(value["b"]?.objectValue?.isEmpty == true)
        #expect(value["a"]?.kindName == "an array")
        #expect(try Self.parse("1.5").intValue == nil)
        #expect(try Self.parse("1E2").intValue == 100)
    }

    /// Keys are compared by exact scalars, as the reference implementations do: canonically equivalent
    /// spellings are different keys (a vocabulary may hold both), an exact repeat is refused.
    @Test func keepsCanonicallyEquivalentKeysApartAndRefusesRepeats() throws {
        let value = try Self.parse(#"{"\u00e9": 1, "e\u0301": 2}"#)
        let members = try #require(value.objectValue)
        #expect(members.map { $0.key.unicodeScalars.map(\.value) } == [[0xE9], [0x65, 0x301]])
        #expect(value["e\u{301}"]?.intValue == 2)
        #expect(throws: JSONParseError.self) { try Self.parse(#"{"\u00e9": 1, "é": 3}"#) }
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try Self.parse(#"["a\"b\\c\/d\b\f\n\r\t", "\ud83d\ude00", "\u0000x"]"#)
        #expect(try #require(value.arrayValue).map(\.stringValue) == ["a\"b\\c/d\u{8}\u{C}\n\r\t", "😀", "\u{0}x"])
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", #"{"a":1,}"#, "01", "1.", "-", "1e", "tru", "nul", "[1 2]", #"{"a" 1}"#, #"{1: 2}"#,
        #""\ud800""#, #""\udc00x""#, #""\x""#, #""\u12G4""#, "\"abc", "\"a\u{9}b\"", "{} {}", "NaN", "1e999",
        #"{"a":1,"a":2}"#, "\"tab\there\"", "[NaN]",
    ])
    func refusesMalformedJSON(_ text: String) {
        #expect(throws: JSONParseError.self) { try Self.parse(text) }
    }

    @Test func refusesInvalidUTF8InStrings() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func limitsNesting() throws {
        #expect(throws: JSONParseError.self) { try Self.parse(String(repeating: "[", count: 10_000)) }
        _ = try Self.parse(String(repeating: "[", count: 60) + String(repeating: "]", count: 60))
    }

    @Test func acceptsByteOrderMark() throws {
        #expect(try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("{}".utf8)).objectValue?.isEmpty == true)
    }

    @Test func writerEscapesLikeSerdeJSON() {
        #expect(JSONWriter.serialize(.string("a\"b\\c\n\u{01}é/")) == #""a\"b\\c\n\u0001é/""#)
    }
}
