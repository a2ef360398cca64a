/// Writes JSON deterministically (object members in the order given), escaping strings the way serde_json does, so a
/// safetensors header we write matches the reference writer's. Compact, or laid out as Foundation's `JSONEncoder`
/// with `.prettyPrinted` lays it out.
///
/// It copies UTF-8 into a buffer of 64 KiB emptied whenever it fills: `quiver list --json` writes megabytes, and
/// appending to a `String` or an array piece by piece, or growing one buffer for the whole text (each fresh page a
/// fault), took most of its time.
public enum JSONWriter {
    public static func serialize(_ value: JSONValue) -> String { String(decoding: utf8(value), as: UTF8.self) }

    public static func write(_ value: JSONValue, into output: inout String) { output += serialize(value) }

    /// The compact text of `value`.
    public static func utf8(_ value: JSONValue) -> [UInt8] {
        var text: [UInt8] = []
        write(to: { text += $0 }, escapingTerminalControls: false) { output in write(value, level: nil, into: &output) }
        return text
    }

    /// Writes the array of `elements` to `flush` in pieces, laid out as `JSONEncoder` with `.prettyPrinted` lays it out:
    /// two spaces per level, `"key" : value`, an empty array or object as its brackets around a blank line. Each element
    /// is made (a lazy collection's) and written in turn, so a large array never sits in memory whole, as values or as
    /// text. With `escapingTerminalControls`, DEL and C1 controls are escaped too (`\u007f`…`\u009f`): the same JSON
    /// value, safe to print on a terminal.
    public static func writePrettyArray(
        _ elements: some Collection<JSONValue>, escapingTerminalControls: Bool, to flush: (UnsafeBufferPointer<UInt8>) -> Void
    ) {
        write(to: flush, escapingTerminalControls: escapingTerminalControls) { output in
            writeContainer(elements, brackets: ("[", "]"), level: 0, into: &output) { element, output in
                write(element, level: 1, into: &output)
            }
        }
    }

    // MARK: - Output

    private static func write(
        to flush: (UnsafeBufferPointer<UInt8>) -> Void, escapingTerminalControls: Bool, _ body: (inout Output) -> Void
    ) {
        withoutActuallyEscaping(flush) { flush in
            var output = Output(flush: flush, escapesTerminalControls: escapingTerminalControls)
            body(&output)
            output.drain()
            output.buffer.deallocate()
        }
    }

    private struct Output {
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 16)
        var count = 0
        let flush: (UnsafeBufferPointer<UInt8>) -> Void
        let escapesTerminalControls: Bool

        @inline(__always)
        mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard let start = bytes.baseAddress else { return }
            if count + bytes.count > buffer.count {
                drain()
                guard bytes.count <= buffer.count else { return flush(bytes) }
            }
            (buffer.baseAddress! + count).update(from: start, count: bytes.count)
            count += bytes.count
        }

        mutating func append(_ text: String) { withUTF8(text) { append($0) } }

        mutating func append(_ text: StaticString) {
            append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }

        @inline(__always)
        mutating func append(_ byte: UInt8) {
            if count == buffer.count { drain() }
            buffer[count] = byte
            count += 1
        }

        mutating func drain() {
            flush(UnsafeBufferPointer(rebasing: buffer[..<count]))
            count = 0
        }
    }

    private static func withUTF8<Result>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        text.utf8.withContiguousStorageIfAvailable(body) ?? Array(text.utf8).withUnsafeBufferPointer(body)
    }

    // MARK: - Values

    /// Compact when `level` is nil, else laid out `level` containers deep.
    private static func write(_ value: JSONValue, level: Int?, into output: inout Output) {
        switch value {
        case .null: output.append("null")
        case .bool(let b): output.append(b ? "true" : "false")
        case .integer(let i): output.append(String(i))
        case .number(let d): output.append(d.rounded() == d && abs(d) < 1e15 ? String(Int64(d)) + ".0" : "\(d)")
        case .string(let s): writeString(s, into: &output)
        case .array(let elements):
            writeContainer(elements, brackets: ("[", "]"), level: level, into: &output) { element, output in
                write(element, level: level.map { $0 + 1 }, into: &output)
            }
        case .object(let members):
            writeContainer(members, brackets: ("{", "}"), level: level, into: &output) { member, output in
                writeString(member.key, into: &output)
                output.append(level == nil ? ":" : " : " as StaticString)
                write(member.value, level: level.map { $0 + 1 }, into: &output)
            }
        }
    }

    private static func writeContainer<Elements: Collection>(
        _ elements: Elements, brackets: (open: Unicode.Scalar, close: Unicode.Scalar), level: Int?, into output: inout Output,
        element writeElement: (Elements.Element, inout Output) -> Void
    ) {
        /// A newline and two spaces per level, copied from a line of 16 levels.
        func newline(indenting level: Int) {
            let line: StaticString = "\n                                "
            let copied = min(1 + 2 * level, line.utf8CodeUnitCount)
            output.append(UnsafeBufferPointer(start: line.utf8Start, count: copied))
            for _ in copied..<1 + 2 * level { output.append(UInt8(ascii: " ")) }
        }
        output.append(UInt8(ascii: brackets.open))
        for (index, element) in elements.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            if let level { newline(indenting: level + 1) }
            writeElement(element, &output)
        }
        if let level {
            if elements.isEmpty { output.append(UInt8(ascii: "\n")) }
            newline(indenting: level)
        }
        output.append(UInt8(ascii: brackets.close))
    }

    /// Escapes `"`, `\`, C0 controls and, when asked, DEL and C1 controls; copies the runs between whole.
    private static func writeString(_ string: String, into output: inout Output) {
        output.append(UInt8(ascii: "\""))
        let terminalControls = output.escapesTerminalControls
        withUTF8(string) { text in
            var run = 0, index = 0
            while true {
                // To the next byte that may need an escape, in a loop of its own: most strings have none.
                while index < text.count {
                    let byte = text[index]
                    let quoteOrBackslash = byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
                    if byte < 0x20 || quoteOrBackslash || terminalControls && (byte == 0x7F || byte == 0xC2) { break }
                    index += 1
                }
                guard index < text.count else { break }
                guard let (escape, width) = escape(text, at: index) else {
                    index += 1
                    continue
                }
                output.append(UnsafeBufferPointer(rebasing: text[run..<index]))
                output.append(escape)
                index += width
                run = index
            }
            output.append(UnsafeBufferPointer(rebasing: text[run...]))
        }
        output.append(UInt8(ascii: "\""))
    }

    /// The escape of the character starting at `index` (`"`, `\`, a control or C2) and how many bytes it stands for;
    /// nil for a C2 that starts no C1 control.
    private static func escape(_ text: UnsafeBufferPointer<UInt8>, at index: Int) -> (String, Int)? {
        let byte = text[index]
        return switch byte {
        case UInt8(ascii: "\""): ("\\\"", 1)
        case UInt8(ascii: "\\"): ("\\\\", 1)
        case UInt8(ascii: "\n"): ("\\n", 1)
        case UInt8(ascii: "\r"): ("\\r", 1)
        case UInt8(ascii: "\t"): ("\\t", 1)
        case 0x08: ("\\b", 1)
        case 0x0C: ("\\f", 1)
        case 0..<0x20, 0x7F: (hexEscape(byte), 1)
        case _ where index + 1 < text.count && (0x80...0x9F).contains(text[index + 1]): (hexEscape(text[index + 1]), 2)  // C2 80…9F
        default: nil
        }
    }

    /// `\u00XX` for a code point below 100 (hex).
    private static func hexEscape(_ codePoint: UInt8) -> String {
        (codePoint < 0x10 ? "\\u000" : "\\u00") + String(codePoint, radix: 16)
    }
}
