// MARK: - BERT character classes

/// The character classes of BERT's basic tokenizer, as the Hugging Face `tokenizers` BertNormalizer and
/// BertPreTokenizer define them (the slow Python BertTokenizer agrees except where noted).
///
/// The ASCII versions take a code unit and need no Unicode tables; the others take the general category,
/// looked up once per scalar by the caller.
enum BertCharacterRules {
    // MARK: ASCII

    /// Space, tab, line feed, vertical tab, form feed, carriage return.
    @inline(__always)
    static func isASCIIWhitespace(_ value: UInt32) -> Bool {
        value == 0x20 || (0x09...0x0D).contains(value)
    }

    /// C0 controls and DEL, except tab, line feed and carriage return.
    @inline(__always)
    static func isASCIIControl(_ value: UInt32) -> Bool {
        (value < 0x20 && value != 0x09 && value != 0x0A && value != 0x0D) || value == 0x7F
    }

    /// BERT's ASCII punctuation: 33–47, 58–64, 91–96 and 123–126, which include symbols such as `$`, `+`,
    /// `^` and `` ` `` that Unicode does not call punctuation.
    @inline(__always)
    static func isASCIIPunctuation(_ value: UInt32) -> Bool {
        (33...47).contains(value) || (58...64).contains(value) || (91...96).contains(value)
            || (123...126).contains(value)
    }

    // MARK: Beyond ASCII

    /// What BERT makes of a scalar beyond ASCII.
    enum ScalarClass: UInt8 {
        /// Removed by `clean_text`: the general categories Cc, Cf, Co and Cs. Unassigned code points (Cn) are
        /// not, as in `tokenizers` (the slow Python tokenizer removes them too).
        case control
        /// The Unicode White_Space property: the separators (Zs, Zl, Zp) and U+0085 (which is also a control).
        case whitespace
        /// The Unicode punctuation categories (P*).
        case punctuation
        /// A nonspacing mark (Mn), removed when stripping accents.
        case nonspacingMark
        case other
    }

    /// The class of a scalar >= U+0080. Out of line on purpose: `Unicode.GeneralCategory` is a resilient
    /// enum, and handling it inline would weigh down every caller, the ASCII fast paths included.
    @inline(never)
    static func classify(_ scalar: Unicode.Scalar) -> ScalarClass {
        switch scalar.properties.generalCategory {
        case .control: return scalar.value == 0x85 ? .whitespace : .control
        case .format, .privateUse, .surrogate: return .control
        case .spaceSeparator, .lineSeparator, .paragraphSeparator: return .whitespace
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return .punctuation
        case .nonspacingMark: return .nonspacingMark
        default: return .other
        }
    }

    /// Whether lower-casing changes `scalar` (out of line for the same reason as `classify`).
    @inline(never)
    static func changesWhenLowercased(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.changesWhenLowercased
    }

    /// A CJK ideograph, in BERT's sense: the CJK Unified Ideographs block, its extensions A–E and the
    /// compatibility ideographs. Hiragana, Katakana and Hangul are not included.
    @inline(__always)
    static func isChineseCharacter(_ value: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(value) || (0x3400...0x4DBF).contains(value)
            || (0x20000...0x2A6DF).contains(value) || (0x2A700...0x2B73F).contains(value)
            || (0x2B740...0x2B81F).contains(value) || (0x2B820...0x2CEAF).contains(value)
            || (0xF900...0xFAFF).contains(value) || (0x2F800...0x2FA1F).contains(value)
    }
}
