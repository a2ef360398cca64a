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

    /// One line per version a pull or push could not bring over; then the error that ends the
    /// command, when there were any (`total`: what was asked for, e.g. "3" or "the local tasks").
    static func failed(_ failures: [TransferFailure], of total: String, to verb: String) -> QuiverError? {
        for failure in failures { error("\(failure.name): \(failure.error)") }
        return failures.isEmpty ? nil : QuiverError(.notFound, "\(failures.count) of \(total) could not be \(verb) (above)")
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

    /// Columns left-aligned, padded to the widest cell (in characters). Every row has a cell per header.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var cells: [String] = [], counts: [Int] = []
        cells.reserveCapacity((rows.count + 1) * header.count)
        counts.reserveCapacity(cells.capacity)
        for row in CollectionOfOne(header) + rows {
            for cell in row {
                cells.append(TerminalText.sanitized(cell))
                counts.append(characterCount(cells[cells.count - 1]))
            }
        }
        var widths = header.map { _ in 0 }
        for (index, count) in counts.enumerated() { widths[index % header.count] = max(widths[index % header.count], count) }
        let spaces = Array(repeating: UInt8(ascii: " "), count: (widths.max() ?? 0) + 2)
        var text: [UInt8] = []
        text.reserveCapacity((rows.count + 1) * (widths.reduce(0, +) + 2 * header.count))
        for index in cells.indices {
            cells[index].withUTF8 { text += $0 }
            let column = index % header.count
            if column < header.count - 1 {
                text += spaces[..<(widths[column] - counts[index] + 2)]
            } else if index < cells.count - 1 {
                text.append(UInt8(ascii: "\n"))
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Characters of sanitized text: one per byte when it is ASCII (no CR is left to pair with LF), found in a
    /// fraction of the time of `count`'s grapheme breaking.
    private static func characterCount(_ text: String) -> Int {
        var utf8 = text
        return utf8.withUTF8 { $0.allSatisfy { $0 < 0x80 } } ? text.utf8.count : text.count
    }

    /// 1234567 → "1,234,567".
    static func count(_ value: Int) -> String { DisplayFormat.count(value) }

    /// Bytes in binary units: "512 B", "12.3 KiB", "1.20 MiB".
    static func size(_ bytes: Int) -> String { DisplayFormat.size(bytes) }

    /// UTC, to the minute.
    static func date(_ date: Date) -> String { DisplayFormat.date(date) }
}
