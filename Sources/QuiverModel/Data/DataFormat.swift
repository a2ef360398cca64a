/// The layouts a data file can have.
public enum DataFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    /// One JSON object per line: `{"text": ..., "text_pair": ..., "label": ...}`.
    case jsonLines = "jsonl"
    /// RFC 4180 comma-separated values with a header row.
    case csv
    /// The same rules as CSV with a tab between fields.
    case tsv

    public var description: String {
        switch self {
        case .jsonLines: "JSON Lines"
        case .csv: "CSV"
        case .tsv: "TSV"
        }
    }

    /// The format a file's extension names (case-insensitive): `.jsonl`, `.ndjson` and `.json` are
    /// JSON Lines, `.csv` CSV, `.tsv` TSV; nil for any other name.
    public init?(extensionOf path: String) {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        switch name[name.index(after: dot)...].lowercased() {
        case "jsonl", "ndjson", "json": self = .jsonLines
        case "csv": self = .csv
        case "tsv", "tab": self = .tsv
        default: return nil
        }
    }

    /// Guesses the format from the start of a file (after any byte order mark): JSON Lines when the
    /// first non-blank character opens a JSON value (`{` or `[`), else TSV when the first line has a
    /// tab and no comma, else CSV.
    public init(sniffing bytes: some Collection<UInt8>) {
        let blank: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        if let first = bytes.first(where: { !blank.contains($0) }), first == UInt8(ascii: "{") || first == UInt8(ascii: "[") {
            self = .jsonLines
            return
        }
        let firstLine = bytes.prefix { $0 != 0x0A && $0 != 0x0D }
        let tab = firstLine.contains(0x09), comma = firstLine.contains(UInt8(ascii: ","))
        self = tab && !comma ? .tsv : .csv
    }

    func parser(source: String, maximumRowBytes: Int) -> any ExampleParser {
        switch self {
        case .jsonLines: return JSONLinesParser(source: source, maximumRowBytes: maximumRowBytes)
        case .csv: return DelimitedParser(source: source, delimiter: UInt8(ascii: ","), maximumRowBytes: maximumRowBytes)
        case .tsv: return DelimitedParser(source: source, delimiter: 0x09, maximumRowBytes: maximumRowBytes)
        }
    }
}
