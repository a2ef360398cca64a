import Foundation

// MARK: - BertNormalizer

/// Receives the normalized text one scalar at a time (see `WordPieceWordSink`).
protocol NormalizedScalarSink {
    /// True once the sink needs no more input (a truncation limit was reached).
    var isFull: Bool { get }
    mutating func accept(_ scalar: Unicode.Scalar)
}

/// BERT's text normalization, in the order of the `tokenizers` BertNormalizer:
/// 1. clean text: drop NUL, U+FFFD and control/format characters; every whitespace character becomes a space;
/// 2. put spaces around CJK ideographs;
/// 3. strip accents: canonical decomposition (NFD), then drop nonspacing marks (Mn);
/// 4. lower-case (full Unicode lower-case mapping, scalar by scalar, as Rust's `char::to_lowercase`).
struct BertNormalizer: Sendable {
    var cleanText: Bool
    var handleChineseChars: Bool
    var stripAccents: Bool
    var lowercase: Bool

    /// Normalizes `segment` into `sink`, stopping early once the sink is full.
    func normalize<Sink: NormalizedScalarSink>(_ segment: Substring, into sink: inout Sink) {
        // NFD is done once for the whole segment, and only when a scalar >= U+00C0 (the first one with a
        // canonical decomposition; its UTF-8 lead byte is >= 0xC3) is present: ASCII text never pays for it.
        // Decomposing before cleaning instead of after gives the same result: decomposition never creates or
        // removes control characters, whitespace or CJK ideographs.
        if stripAccents, segment.utf8.contains(where: { $0 >= 0xC3 }) {
            normalizeScalars(segment.decomposedStringWithCanonicalMapping.unicodeScalars, into: &sink)
        } else {
            normalizeScalars(segment.unicodeScalars, into: &sink)
        }
    }

    private func normalizeScalars<Scalars: Sequence<Unicode.Scalar>, Sink: NormalizedScalarSink>(
        _ scalars: Scalars, into sink: inout Sink
    ) {
        let space: Unicode.Scalar = " "
        for scalar in scalars {
            if sink.isFull { return }
            let value = scalar.value
            if value < 0x80 {
                // ASCII fast path: no Unicode property lookups.
                if cleanText {
                    if BertCharacterRules.isControl(scalar) { continue }
                    if BertCharacterRules.isWhitespace(scalar) {
                        sink.accept(space)
                        continue
                    }
                }
                if lowercase, value >= 0x41, value <= 0x5A {
                    sink.accept(Unicode.Scalar(UInt8(value + 0x20)))
                } else {
                    sink.accept(scalar)
                }
                continue
            }
            if cleanText {
                if value == 0xFFFD || BertCharacterRules.isControl(scalar) { continue }
                if BertCharacterRules.isWhitespace(scalar) {
                    sink.accept(space)
                    continue
                }
            }
            if handleChineseChars, BertCharacterRules.isChineseCharacter(value) {
                sink.accept(space)
                sink.accept(scalar)  // ideographs have no case and, once decomposed, no marks
                sink.accept(space)
                continue
            }
            if stripAccents, scalar.properties.generalCategory == .nonspacingMark { continue }
            if lowercase, scalar.properties.changesWhenLowercased {
                for lower in scalar.properties.lowercaseMapping.unicodeScalars { sink.accept(lower) }
            } else {
                sink.accept(scalar)
            }
        }
    }
}
