// MARK: - NormalizedScalarSink

/// Receives the normalized text one scalar at a time, already classified for the BERT pre-tokenizer.
protocol NormalizedScalarSink {
    /// True once the sink needs no more input (a truncation limit was reached).
    var isFull: Bool { get }
    /// Whitespace: ends the current word.
    mutating func acceptSpace()
    /// A punctuation scalar: a word of its own.
    mutating func acceptPunctuation(_ scalar: Unicode.Scalar)
    /// Any other scalar: part of the current word.
    mutating func acceptWordScalar(_ scalar: Unicode.Scalar)
}

extension NormalizedScalarSink {
    /// Classifies `scalar` and passes it on.
    @inline(__always)
    mutating func accept(_ scalar: Unicode.Scalar) {
        if scalar.value < 0x80 {
            if BertCharacterRules.isASCIIWhitespace(scalar.value) {
                acceptSpace()
            } else if BertCharacterRules.isASCIIPunctuation(scalar.value) {
                acceptPunctuation(scalar)
            } else {
                acceptWordScalar(scalar)
            }
            return
        }
        switch BertCharacterRules.classify(scalar) {
        case .whitespace: acceptSpace()
        case .punctuation: acceptPunctuation(scalar)
        default: acceptWordScalar(scalar)
        }
    }
}

// MARK: - BertNormalizer

/// BERT's text normalization, in the order of the `tokenizers` BertNormalizer:
/// 1. clean text: drop NUL, U+FFFD and control/format characters; every whitespace character becomes a space;
/// 2. put spaces around CJK ideographs;
/// 3. strip accents: canonical decomposition (NFD), then drop nonspacing marks (Mn);
/// 4. lower-case (full Unicode lower-case mapping, scalar by scalar, as Rust's `char::to_lowercase`).
///
/// It works one scalar at a time and hands its output to a `NormalizedScalarSink` (the pre-tokenizer),
/// so text is never copied. ASCII takes a path without any Unicode property lookup.
struct BertNormalizer: Sendable {
    var cleanText: Bool
    var handleChineseChars: Bool
    var stripAccents: Bool
    var lowercase: Bool

    @inline(__always)
    func normalize<Sink: NormalizedScalarSink>(_ scalar: Unicode.Scalar, into sink: inout Sink) {
        if scalar.value < 0x80 {
            normalizeASCII(scalar, into: &sink)
        } else {
            normalizeNonASCII(scalar, into: &sink)
        }
    }

    private func normalizeNonASCII<Sink: NormalizedScalarSink>(_ scalar: Unicode.Scalar, into sink: inout Sink) {
        let value = scalar.value
        if handleChineseChars, BertCharacterRules.isChineseCharacter(value) {
            sink.acceptSpace()
            if stripAccents {
                CanonicalDecomposition.forEach(scalar) { sink.acceptWordScalar($0) }  // compatibility ideographs
            } else {
                sink.acceptWordScalar(scalar)
            }
            sink.acceptSpace()
            return
        }
        let scalarClass = BertCharacterRules.classify(scalar)
        if cleanText {
            // U+0085 is a control character (removed) that the pre-tokenizer would see as whitespace.
            if scalarClass == .control || value == 0x85 || value == 0xFFFD { return }
        }
        guard stripAccents else {
            appendLowercased(scalar, scalarClass, into: &sink)
            return
        }
        if scalarClass == .nonspacingMark { return }
        CanonicalDecomposition.forEach(scalar) { part in
            if part == scalar {
                appendLowercased(part, scalarClass, into: &sink)
            } else if part.value < 0x80 {
                normalizeASCII(part, into: &sink)
            } else {
                // A part may be a mark to drop, or even punctuation (U+1FEF decomposes to a backquote).
                let partClass = BertCharacterRules.classify(part)
                if partClass != .nonspacingMark { appendLowercased(part, partClass, into: &sink) }
            }
        }
    }

    @inline(__always)
    private func normalizeASCII<Sink: NormalizedScalarSink>(_ scalar: Unicode.Scalar, into sink: inout Sink) {
        let value = scalar.value
        if BertCharacterRules.isASCIIControl(value) {
            if cleanText { return }
            // Vertical tab and form feed are control characters, yet whitespace to the pre-tokenizer.
            if BertCharacterRules.isASCIIWhitespace(value) { sink.acceptSpace() } else { sink.acceptWordScalar(scalar) }
        } else if BertCharacterRules.isASCIIWhitespace(value) {
            sink.acceptSpace()
        } else if BertCharacterRules.isASCIIPunctuation(value) {
            sink.acceptPunctuation(scalar)
        } else if lowercase, value >= 0x41, value <= 0x5A {
            sink.acceptWordScalar(Unicode.Scalar(UInt8(value + 0x20)))
        } else {
            sink.acceptWordScalar(scalar)
        }
    }

    /// Passes a non-ASCII scalar of class `scalarClass` on, lower-cased if configured.
    @inline(__always)
    private func appendLowercased<Sink: NormalizedScalarSink>(
        _ scalar: Unicode.Scalar, _ scalarClass: BertCharacterRules.ScalarClass, into sink: inout Sink
    ) {
        switch scalarClass {
        case .whitespace:
            sink.acceptSpace()
        case .punctuation:
            sink.acceptPunctuation(scalar)
        default:
            if lowercase, BertCharacterRules.changesWhenLowercased(scalar) {
                // A lower-cased letter is a letter (or, for U+0130, a letter and a combining dot).
                for lower in scalar.properties.lowercaseMapping.unicodeScalars { sink.acceptWordScalar(lower) }
            } else {
                sink.acceptWordScalar(scalar)
            }
        }
    }
}
