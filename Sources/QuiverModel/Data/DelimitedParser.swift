
/// CSV (RFC 4180) and TSV: a header row naming the columns `text`, `label` and optionally
/// `text_pair`, in any order (other columns are ignored), then one record per example.
///
/// Fields may be quoted with `"`; inside quotes, delimiters and line breaks are part of the value
/// and `""` is one quote. A quote inside an unquoted field is kept as it is (as Python's `csv`
/// reader does). Records end with LF, CRLF or CR; completely empty lines are skipped.
struct DelimitedParser: ExampleParser {
    let source: String
    let delimiter: UInt8
    let maximumRowBytes: Int

    private enum State {
        /// Before the first byte of a field.
        case fieldStart
        case unquoted
        case quoted
        /// Just after a quote inside a quoted field: the field's end, or the first half of `""`.
        case quoteInQuoted
    }

    private var state = State.fieldStart
    private var field: [UInt8] = []
    /// Whether a record has begun: a line with anything on it, even an empty quoted field.
    private var inRecord = false
    private var record: [[UInt8]] = []
    private var recordBytes = 0
    /// The line being read (1-based), where the current record started, and where its open quote is.
    private var line = 1
    private var recordLine = 1
    private var quoteLine = 1
    private var previousWasCR = false
    private var columns: Columns?

    /// Where the columns the examples need are in each record.
    private struct Columns {
        var count: Int
        var text: Int
        var label: Int
        var textPair: Int?
    }

    init(source: String, delimiter: UInt8, maximumRowBytes: Int) {
        self.source = source
        self.delimiter = delimiter
        self.maximumRowBytes = maximumRowBytes
    }

    // MARK: - Bytes to records

    mutating func consume(_ bytes: UnsafeBufferPointer<UInt8>, into sink: inout ExampleSink) throws {
        let quote = UInt8(ascii: "\""), cr: UInt8 = 0x0D, lf: UInt8 = 0x0A
        for byte in bytes {
            // A LF right after a CR is the second half of one CRLF line break.
            let crlfTail = byte == lf && previousWasCR
            previousWasCR = byte == cr
            let lineBreak = byte == cr || (byte == lf && !crlfTail)
            if !inRecord && byte != cr && byte != lf {
                inRecord = true
                recordLine = line
            }
            recordBytes += 1
            if recordBytes > maximumRowBytes {
                let hint = state == .quoted ? " (is the quote opened on line \(quoteLine) closed?)" : ""
                throw QuiverError(.invalidInput, "\(source):\(recordLine): row longer than \(Dataset.describe(bytes: maximumRowBytes)), the limit for one example\(hint)")
            }
            switch state {
            case .quoted:
                if byte == quote { state = .quoteInQuoted } else { field.append(byte) }
                if lineBreak { line += 1 }
            case .quoteInQuoted, .fieldStart, .unquoted:
                if state == .quoteInQuoted && byte == quote {
                    field.append(quote)
                    state = .quoted
                } else if byte == delimiter {
                    endField()
                } else if byte == cr || byte == lf {
                    guard !crlfTail else { continue }
                    try endRecord(into: &sink)
                    line += 1
                } else if state == .quoteInQuoted {
                    throw QuiverError(.invalidInput, "\(source):\(line): unexpected character after the closing quote of a field (write a quote inside a quoted field as \"\")")
                } else if state == .fieldStart && byte == quote {
                    state = .quoted
                    quoteLine = line
                } else {
                    field.append(byte)
                    state = .unquoted
                }
            }
        }
    }

    mutating func finish(into sink: inout ExampleSink) throws {
        if state == .quoted {
            throw QuiverError(.invalidInput, "\(source):\(quoteLine): unterminated quote: the quoted field opened on this line is never closed")
        }
        try endRecord(into: &sink)
        if columns == nil {
            throw QuiverError(.invalidInput, "\(source): no examples (\(line == 1 ? "the file is empty" : "only blank lines, no header row"))")
        }
    }

    private mutating func endField() {
        record.append(field)
        field.removeAll(keepingCapacity: true)
        state = .fieldStart
    }

    private mutating func endRecord(into sink: inout ExampleSink) throws {
        recordBytes = 0
        guard inRecord else { return }  // an empty line
        inRecord = false
        endField()
        let fields = record
        record.removeAll(keepingCapacity: true)
        if let columns {
            let (example, integerLabel) = try example(fields, columns: columns)
            sink.append(example, integerLabel: integerLabel)
        } else {
            columns = try header(fields)
        }
    }

    // MARK: - Records to examples

    private func header(_ fields: [[UInt8]]) throws -> Columns {
        let names = try fields.map { try string($0).trimmingBlanks }
        var positions: [String: Int] = [:]
        for (index, name) in names.enumerated() where ["text", "text_pair", "label"].contains(name) {
            guard positions[name] == nil else {
                throw QuiverError(.invalidInput, "\(source):\(recordLine): the header names the column \"\(name)\" twice")
            }
            positions[name] = index
        }
        for required in ["text", "label"] where positions[required] == nil {
            let found = names.prefix(8).map { "\"\($0)\"" }.joined(separator: ", ") + (names.count > 8 ? ", …" : "")
            let separator = delimiter == 0x09 ? "tab" : "comma"
            throw QuiverError(.invalidInput, "\(source):\(recordLine): the header has no \"\(required)\" column (found \(found); columns are \(separator)-separated)")
        }
        return Columns(count: names.count, text: positions["text"]!, label: positions["label"]!, textPair: positions["text_pair"])
    }

    private func example(_ fields: [[UInt8]], columns: Columns) throws -> (Example, Bool) {
        guard fields.count == columns.count else {
            throw QuiverError(.invalidInput, "\(source):\(recordLine): \(fields.count) field\(fields.count == 1 ? "" : "s"), the header has \(columns.count)")
        }
        let label = try string(fields[columns.label])
        guard !label.isEmpty else { throw QuiverError(.invalidInput, "\(source):\(recordLine): empty \"label\"") }
        let pair = try columns.textPair.map { try string(fields[$0]) }
        let example = Example(text: try string(fields[columns.text]), textPair: pair?.isEmpty == false ? pair : nil, label: label, line: recordLine)
        return (example, Dataset.isIntegerLabel(label))
    }

    private func string(_ bytes: [UInt8]) throws -> String {
        guard let string = String(validating: bytes, as: UTF8.self) else {
            throw QuiverError(.invalidInput, "\(source):\(recordLine): not valid UTF-8")
        }
        return string
    }
}

extension String {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingBlanks: String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(self.drop(while: blank).reversed().drop(while: blank).reversed())
    }
}
