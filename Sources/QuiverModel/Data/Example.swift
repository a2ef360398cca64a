/// One labelled example of a data file.
public struct Example: Sendable, Equatable {
    /// The input text (may be empty).
    public var text: String
    /// The second text of a pair; nil when the row has none (an empty `text_pair` counts as none).
    public var textPair: String?
    /// The gold label as written: a name, or an integer's decimal digits (see `Dataset.integerLabels`).
    public var label: String
    /// The line of the data file where the example starts (1-based), for messages.
    public var line: Int

    public init(text: String, textPair: String? = nil, label: String, line: Int = 0) {
        self.text = text
        self.textPair = textPair
        self.label = label
        self.line = line
    }
}

/// Collects the examples a parser emits and whether every label was written as an integer.
struct ExampleSink {
    var examples: [Example] = []
    var allIntegerLabels = true

    mutating func append(_ example: Example, integerLabel: Bool) {
        examples.append(example)
        allIntegerLabels = allIntegerLabels && integerLabel
    }
}

/// A parser that turns a data file's bytes, chunk by chunk, into examples.
protocol ExampleParser {
    /// Parses the next bytes of the file (the byte order mark already removed).
    mutating func consume(_ bytes: UnsafeBufferPointer<UInt8>, into sink: inout ExampleSink) throws
    /// Called once at the end of the file.
    mutating func finish(into sink: inout ExampleSink) throws
}
