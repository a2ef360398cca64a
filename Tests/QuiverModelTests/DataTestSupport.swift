import Foundation
import Testing

@testable import QuiverModel
@testable import QuiverStore

/// Data files for the dataset tests: written to a temporary folder, or parsed from memory.
enum DataFiles {
    /// Writes `bytes` to a fresh temporary file named `name`; returns its path.
    static func write(_ bytes: [UInt8], name: String) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-data-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func write(_ text: String, name: String) throws -> String { try write(Array(text.utf8), name: name) }

    /// Parses `text` as the file `name` (its extension picks the format).
    static func parse(_ text: String, name: String) throws -> Dataset {
        try Dataset(bytes: Array(text.utf8), source: name)
    }

    /// The message of the `QuiverError` that parsing `text` throws, or nil.
    static func error(_ text: String, name: String) -> String? {
        error { _ = try parse(text, name: name) }
    }

    static func error(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as QuiverError {
            #expect(error.kind == .invalidInput, "\(error.kind): \(error.message)")
            #expect(!error.message.contains("\n"), "messages are one line: \(error.message)")
            return error.message
        } catch {
            Issue.record("not a QuiverError: \(error)")
            return nil
        }
    }

    /// Reads the file with every chunk size in `sizes`, so each byte boundary falls between two reads.
    static func loadInChunks(_ path: String, sizes: [Int] = [1, 2, 3, 5, 7, 64]) throws -> [Dataset] {
        try sizes.map {
            try Dataset.load(path: path, format: nil, maximumFileBytes: Dataset.maximumFileBytes, maximumRowBytes: Dataset.maximumRowBytes, chunkSize: $0)
        }
    }
}

extension Dataset {
    /// (text, pair, label, line) of every example, for compact comparisons.
    var rows: [Row] { examples.map { Row($0.text, $0.textPair, $0.label, $0.line) } }

    struct Row: Equatable, CustomStringConvertible {
        var text: String, pair: String?, label: String, line: Int
        init(_ text: String, _ pair: String?, _ label: String, _ line: Int) {
            (self.text, self.pair, self.label, self.line) = (text, pair, label, line)
        }
        var description: String { "(\(text.debugDescription), \(pair?.debugDescription ?? "nil"), \(label), line \(line))" }
    }
}
