import Foundation

/// The labelled examples of one data file (JSON Lines, CSV or TSV), read strictly: the first bad
/// row stops the reading with an error naming the file, the line and what is wrong.
///
/// ```swift
/// let data = try Dataset.load(path: "dev.csv")
/// print(data.count, data.labels, data.digest)
/// ```
public struct Dataset: Sendable {
    /// The largest data file read (1 GiB) and the longest row (1 MiB).
    public static let maximumFileBytes = 1 << 30
    public static let maximumRowBytes = 1 << 20

    /// The path as given, used in messages.
    public let source: String
    public let format: DataFormat
    /// In file order.
    public let examples: [Example]
    /// Every distinct gold label, sorted: numerically when `integerLabels`, else by Unicode code
    /// points (UTF-8 byte order) — the same set in the same order whatever the order of the rows.
    public let labels: [String]
    /// True when every label was written as an integer: a JSON integer, or a CSV/TSV field that is
    /// a non-negative decimal number without leading zeros. Such labels may be read as indices.
    public let integerLabels: Bool
    /// SHA-256 of the file's bytes, exactly as stored (byte order mark included).
    public let digest: Digest
    /// The file's size in bytes.
    public let byteCount: Int

    public var count: Int { examples.count }
    public var texts: [String] { examples.map(\.text) }
    /// The second texts, or nil when no example has one.
    public var pairs: [String?]? {
        examples.contains { $0.textPair != nil } ? examples.map(\.textPair) : nil
    }

    // MARK: - Reading

    /// Reads a data file; its format comes from `format`, else the extension (`.jsonl`, `.ndjson`,
    /// `.json`, `.csv`, `.tsv`), else its first bytes (see `DataFormat(sniffing:)`).
    ///
    /// - Throws: `QuiverError(.invalidInput)` naming `path` and the line of the first bad row, for a
    ///   file without examples, or over the size limits.
    public static func load(path: String, format: DataFormat? = nil) throws -> Dataset {
        try load(path: path, format: format, maximumFileBytes: maximumFileBytes, maximumRowBytes: maximumRowBytes)
    }

    static func load(path: String, format: DataFormat?, maximumFileBytes: Int, maximumRowBytes: Int, chunkSize: Int = 1 << 20) throws -> Dataset {
        let reader = try DataFileReader(path: path, maximumBytes: maximumFileBytes, chunkSize: chunkSize)
        var decoder = DataDecoder(source: path, format: format ?? DataFormat(extensionOf: path), maximumRowBytes: maximumRowBytes)
        while try reader.next({ try decoder.consume($0) }) {}
        return try decoder.finish(digest: reader.digest(), byteCount: reader.byteCount)
    }

    /// Reads data held in memory; `source` names it in messages.
    public init(bytes: [UInt8], source: String, format: DataFormat? = nil) throws {
        guard bytes.count <= Self.maximumFileBytes else {
            throw QuiverError(.invalidInput, "\(source): over the \(Self.describe(bytes: Self.maximumFileBytes)) limit for a data file")
        }
        var decoder = DataDecoder(source: source, format: format ?? DataFormat(extensionOf: source), maximumRowBytes: Self.maximumRowBytes)
        try bytes.withUnsafeBufferPointer { try decoder.consume($0) }
        self = try decoder.finish(digest: Digest.of(bytes), byteCount: bytes.count)
    }

    init(source: String, format: DataFormat, sink: ExampleSink, digest: Digest, byteCount: Int) throws {
        guard !sink.examples.isEmpty else {
            let detail = byteCount == 0 ? "the file is empty" : format == .jsonLines ? "only blank lines" : "only a header row"
            throw QuiverError(.invalidInput, "\(source): no examples (\(detail))")
        }
        self.source = source
        self.format = format
        self.examples = sink.examples
        self.integerLabels = sink.allIntegerLabels
        let distinct = Set(sink.examples.map(\.label))
        self.labels = sink.allIntegerLabels
            ? distinct.sorted { Int($0)! < Int($1)! }
            : distinct.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        self.digest = digest
        self.byteCount = byteCount
    }

    // MARK: - Helpers

    /// `0`, `7`, `42`: digits without a sign or leading zeros, small enough for an `Int`.
    static func isIntegerLabel(_ label: String) -> Bool {
        let digits = label.utf8
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ (0x30...0x39).contains($0) }) else { return false }
        return digits.count == 1 || digits.first != 0x30
    }

    /// "1 MiB", "1.5 GiB"… for messages about limits.
    static func describe(bytes: Int) -> String {
        for (unit, size) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes >= size {
            let value = Double(bytes) / Double(size)
            return value == value.rounded() ? "\(Int(value)) \(unit)" : String(format: "%.1f %@", value, unit)
        }
        return "\(bytes) bytes"
    }
}

/// Strips the byte order mark, picks the format from the first bytes when it is not known, and
/// feeds the rest to the format's parser.
struct DataDecoder {
    let source: String
    let maximumRowBytes: Int
    private var format: DataFormat?
    private var parser: (any ExampleParser)?
    private var sink = ExampleSink()
    /// The first bytes, kept until there are enough to strip a byte order mark and sniff the format.
    private var head: [UInt8] = []
    private static let headSize = 4096

    init(source: String, format: DataFormat?, maximumRowBytes: Int) {
        self.source = source
        self.format = format
        self.maximumRowBytes = maximumRowBytes
    }

    mutating func consume(_ bytes: UnsafeBufferPointer<UInt8>) throws {
        if parser != nil {
            try parser!.consume(bytes, into: &sink)
            return
        }
        head.append(contentsOf: bytes)
        if head.count >= Self.headSize { try start() }
    }

    mutating func finish(digest: Digest, byteCount: Int) throws -> Dataset {
        if parser == nil { try start() }
        try parser!.finish(into: &sink)
        return try Dataset(source: source, format: format!, sink: sink, digest: digest, byteCount: byteCount)
    }

    private mutating func start() throws {
        var body = head[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        if body.starts(with: [0x1F, 0x8B]) {
            throw QuiverError(.invalidInput, "\(source): a gzip-compressed file; decompress it first")
        }
        let format = self.format ?? DataFormat(sniffing: body)
        self.format = format
        parser = format.parser(source: source, maximumRowBytes: maximumRowBytes)
        let rest = Array(body)
        head = []
        try rest.withUnsafeBufferPointer { try parser!.consume($0, into: &sink) }
    }
}
