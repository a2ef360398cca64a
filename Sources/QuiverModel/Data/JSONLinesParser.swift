import QuiverTensor

/// JSON Lines: one object per line with `text` (string), optional `text_pair` (string or null) and
/// `label` (a non-empty string or a non-negative integer); other keys are ignored, blank lines skipped.
struct JSONLinesParser: ExampleParser {
    let source: String
    let maximumRowBytes: Int
    /// The bytes of the line being read, up to its newline.
    private var line: [UInt8] = []
    /// 1-based number of the line in `line`.
    private var lineNumber = 1

    init(source: String, maximumRowBytes: Int) {
        self.source = source
        self.maximumRowBytes = maximumRowBytes
    }

    mutating func consume(_ bytes: UnsafeBufferPointer<UInt8>, into sink: inout ExampleSink) throws {
        var start = 0
        while start < bytes.count {
            let rest = UnsafeBufferPointer(rebasing: bytes[start...])
            let newline = rest.firstIndex(of: 0x0A)
            let end = newline.map { start + $0 } ?? bytes.count
            guard line.count + (end - start) <= maximumRowBytes else {
                throw QuiverError(.invalidInput, "\(source):\(lineNumber): line longer than \(Dataset.describe(bytes: maximumRowBytes)), the limit for one example")
            }
            line.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<end]))
            guard newline != nil else { return }
            try endLine(into: &sink)
            start = end + 1
        }
    }

    mutating func finish(into sink: inout ExampleSink) throws {
        if !line.isEmpty { try endLine(into: &sink) }
    }

    private mutating func endLine(into sink: inout ExampleSink) throws {
        defer {
            line.removeAll(keepingCapacity: true)
            lineNumber += 1
        }
        if line.last == 0x0D { line.removeLast() }
        guard line.contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) else { return }  // blank
        let value: JSONValue
        do throws(JSONParseError) {
            value = try JSONParser.parse(line)
        } catch {
            if line.first(where: { $0 != 0x20 && $0 != 0x09 }) == UInt8(ascii: "[") {
                throw fail("expected one JSON object per line (JSON Lines); a JSON array is not a data file")
            }
            throw fail("invalid JSON: \(error.message) (byte \(error.offset + 1) of the line)")
        }
        let (example, integerLabel) = try example(from: value)
        sink.append(example, integerLabel: integerLabel)
    }

    private func example(from value: JSONValue) throws -> (Example, Bool) {
        guard case .object = value else { throw fail("expected a JSON object, found \(Self.kind(value))") }
        let text: String
        switch value["text"] {
        case .string(let string)?: text = string
        case nil, .null?: throw fail("missing \"text\"")
        case let other?: throw fail("\"text\" must be a string, found \(Self.kind(other))")
        }
        var pair: String?
        switch value["text_pair"] {
        case .string(let string)?: pair = string.isEmpty ? nil : string
        case nil, .null?: pair = nil
        case let other?: throw fail("\"text_pair\" must be a string or null, found \(Self.kind(other))")
        }
        switch value["label"] {
        case .string(let label)?:
            guard !label.isEmpty else { throw fail("empty \"label\"") }
            return (Example(text: text, textPair: pair, label: label, line: lineNumber), false)
        case .integer(let index)? where index >= 0:
            return (Example(text: text, textPair: pair, label: String(index), line: lineNumber), true)
        case nil, .null?:
            throw fail("missing \"label\"")
        case let other?:
            throw fail("\"label\" must be a string or a non-negative integer, found \(Self.kind(other))")
        }
    }

    private func fail(_ message: String) -> QuiverError {
        QuiverError(.invalidInput, "\(source):\(lineNumber): \(message)")
    }

    /// "a number (1.5)", "an array"… for messages.
    static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): "a boolean (\(flag))"
        case .integer(let number): "the integer \(number)"
        case .number(let number): "the number \(number)"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
