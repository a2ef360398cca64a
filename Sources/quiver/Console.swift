import Foundation
import QuiverHub
import QuiverModel
import QuiverStore
import QuiverTensor

/// Output helpers: tables, sizes and counts for people; JSON for programs. Errors, notes, tables and
/// JSON can hold text from a remote, so they go through `TerminalText` on the way out.
enum Console {
    static func error(_ message: String) {
        let line = TerminalText.sanitized(message.replacingOccurrences(of: "\n", with: " "))
        FileHandle.standardError.write(Data("quiver: \(line)\n".utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data("\(TerminalText.sanitized(message))\n".utf8))
    }

    /// Prints one JSON document on stdout.
    static func printJSON(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        print(TerminalText.escapingControls(inJSON: String(decoding: try encoder.encode(value), as: UTF8.self)))
    }

    /// Prints a JSON array on stdout as `printJSON` prints an `Encodable` one (members in the order given), each element
    /// made, written and let go in turn.
    static func printJSON(array elements: some Collection<JSONValue>) {
        JSONWriter.writePrettyArray(elements, escapingTerminalControls: true) { piece in
            try? FileHandle.standardOutput.write(contentsOf: UnsafeRawBufferPointer(piece))
        }
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    /// Columns left-aligned, padded to the widest cell.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows.map { $0.map(TerminalText.sanitized) }
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// 1234567 → "1,234,567".
    static func count(_ value: Int) -> String { DisplayFormat.count(value) }

    /// Bytes in binary units: "512 B", "12.3 KiB", "1.20 MiB".
    static func size(_ bytes: Int) -> String { DisplayFormat.size(bytes) }

    /// UTC, to the minute.
    static func date(_ date: Date) -> String { DisplayFormat.date(date) }
}
