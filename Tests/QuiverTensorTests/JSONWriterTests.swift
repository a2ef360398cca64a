import Foundation
import Testing
import QuiverTensor

/// The JSON writer's pretty layout against Foundation's `JSONEncoder`, its pieces, and its escapes for terminals.
@Suite struct JSONWriterTests {
    /// A JSON value `JSONEncoder` encodes as itself (object members in the order given: sorted keys keep them).
    struct Encoded: Encodable {
        var value: JSONValue

        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        func encode(to encoder: any Encoder) throws {
            switch value {
            case .null:
                var container = encoder.singleValueContainer()
                try container.encodeNil()
            case .bool(let b):
                var container = encoder.singleValueContainer()
                try container.encode(b)
            case .integer(let i):
                var container = encoder.singleValueContainer()
                try container.encode(i)
            case .number(let d):
                var container = encoder.singleValueContainer()
                try container.encode(d)
            case .string(let s):
                var container = encoder.singleValueContainer()
                try container.encode(s)
            case .array(let elements):
                var container = encoder.unkeyedContainer()
                for element in elements { try container.encode(Encoded(value: element)) }
            case .object(let members):
                var container = encoder.container(keyedBy: Key.self)
                for member in members { try container.encode(Encoded(value: member.value), forKey: Key(stringValue: member.key)) }
            }
        }
    }

    static func encoderText(_ elements: [JSONValue]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(elements.map(Encoded.init)), as: UTF8.self)
    }

    static func written(_ elements: [JSONValue], escapingTerminalControls: Bool = false) -> (text: String, pieces: Int) {
        var bytes: [UInt8] = []
        var pieces = 0
        JSONWriter.writePrettyArray(elements, escapingTerminalControls: escapingTerminalControls) {
            bytes += $0
            pieces += 1
        }
        return (String(decoding: bytes, as: UTF8.self), pieces)
    }

    @Test func prettyArrayIsJSONEncodersLayout() throws {
        let elements: [JSONValue] = [
            .object([
                ("a", .array([])), ("b", .object([])), ("c", .array([.integer(1), .string("x"), .null, .bool(false)])),
                ("d", .object([("e", .object([("f", .array([.array([]), .object([("g", .integer(-7))])]))]))])),
                ("h", .string("quote \" backslash \\ slash / tab \t newline \n \u{01} \u{1F} é 😀")),
            ]),
            .array([]), .object([]), .string(""), .integer(Int64.max),
        ]
        #expect(Self.written(elements).text == (try Self.encoderText(elements)))
        #expect(Self.written([]).text == (try Self.encoderText([])))
    }

    /// A long array comes out in several pieces that join to what `JSONEncoder` writes.
    @Test func piecesJoinToTheWhole() throws {
        let elements = (0..<3000).map { index in
            JSONValue.object([("index", .integer(Int64(index))), ("text", .string(String(repeating: "ab\"", count: 40)))])
        }
        let (text, pieces) = Self.written(elements)
        #expect(pieces > 4)
        #expect(text == (try Self.encoderText(elements)))
    }

    @Test func terminalControlsAreEscapedWhenAsked() {
        let text: JSONValue = .string("a\u{7F}b\u{80}c\u{85}d\u{9F}e\u{A0}é\u{1B}")
        #expect(Self.written([text], escapingTerminalControls: true).text == "[\n  \"a\\u007fb\\u0080c\\u0085d\\u009fe\u{A0}é\\u001b\"\n]")
        #expect(Self.written([text]).text == "[\n  \"a\u{7F}b\u{80}c\u{85}d\u{9F}e\u{A0}é\\u001b\"\n]")
    }
}
