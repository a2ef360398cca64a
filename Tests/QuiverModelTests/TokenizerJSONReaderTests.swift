import Testing

@testable import QuiverModel

/// The order- and scalar-preserving JSON reader used for tokenizer files.
@Suite struct TokenizerJSONReaderTests {
    static func parse(_ text: String) throws -> JSONValue {
        try JSONValue.parse(Array(text.utf8))
    }

    @Test func keepsCanonicallyEquivalentKeysApart() throws {
        let value = try Self.parse(#"{"\u00e9": 1, "e\u0301": 2, "é": 3}"#)
        let members = try #require(value.objectMembers)
        #expect(members.map { $0.key.unicodeScalars.map(\.value) } == [[0xE9], [0x65, 0x301], [0xE9]])
        #expect(members.map { $0.value.intValue } == [1, 2, 3])
        #expect(value["e\u{301}"]?.intValue == 2)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try Self.parse(#"["a\"b\\c\/d\b\f\n\r\t", "\ud83d\ude00", "\u0000x"]"#)
        let strings = try #require(value.arrayValue).map(\.stringValue)
        #expect(strings == ["a\"b\\c/d\u{8}\u{C}\n\r\t", "😀", "\u{0}x"])
    }

    @Test func readsNumbersLiteralsAndNesting() throws {
        let value = try Self.parse(#" {"a": [1, -2.5e3, 0, 1E2], "b": {"c": null, "d": true, "e": false}} "#)
        #expect(value["a"]?.arrayValue?.compactMap(\.intValue) == [1, -2500, 0, 100])
        #expect(value["b"]?["c"]?.isNull == true)
        #expect(value["b"]?["d"]?.boolValue == true)
        #expect(value["b"]?["e"]?.boolValue == false)
        #expect(value["a"]?.kindName == "an array")
        #expect(try Self.parse("1.5").intValue == nil)
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", #"{"a":1,}"#, "01", "1.", "-", "1e", "tru", "nul", "[1 2]", #"{"a" 1}"#, #"{1: 2}"#,
        #""\ud800""#, #""\udc00x""#, #""\x""#, #""\u12G4""#, "\"abc", "\"a\u{9}b\"", "{} {}", "NaN", "1e999",
    ])
    func rejectsMalformedJSON(text: String) {
        #expect(throws: JSONSyntaxError.self) { try Self.parse(text) }
    }

    @Test func rejectsInvalidUTF8InStrings() {
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse([0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func limitsNesting() throws {
        #expect(throws: JSONSyntaxError.self) { try Self.parse(String(repeating: "[", count: 10_000)) }
        _ = try Self.parse(String(repeating: "[", count: 200) + String(repeating: "]", count: 200))
    }

    @Test func acceptsByteOrderMark() throws {
        #expect(try JSONValue.parse([0xEF, 0xBB, 0xBF] + Array("{}".utf8)).objectMembers?.isEmpty == true)
    }
}
