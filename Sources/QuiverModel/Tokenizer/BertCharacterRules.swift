// MARK: - BERT character classes

/// The character classes of BERT's basic tokenizer, as the Hugging Face `tokenizers` BertNormalizer and
/// BertPreTokenizer define them (the slow Python BertTokenizer agrees except where noted).
enum BertCharacterRules {
    /// Removed by `clean_text`: the general categories Cc, Cf, Co and Cs, except tab, newline and carriage return.
    /// Unassigned code points (Cn) are kept, as `tokenizers` does (the slow tokenizer removes them too).
    @inline(__always)
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            return (value < 0x20 && value != 0x09 && value != 0x0A && value != 0x0D) || value == 0x7F
        }
        switch scalar.properties.generalCategory {
        case .control, .format, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// Whitespace: tab, newline, carriage return and everything with the Unicode White_Space property.
    @inline(__always)
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 { return value == 0x20 || (0x09...0x0D).contains(value) }
        return scalar.properties.isWhitespace
    }

    /// Punctuation: the ASCII ranges 33–47, 58–64, 91–96 and 123–126 (which include symbols such as `$`, `+`,
    /// `^`, `` ` ``) and every scalar of a Unicode P* category.
    @inline(__always)
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        if value < 0x80 {
            return (33...47).contains(value) || (58...64).contains(value) || (91...96).contains(value)
                || (123...126).contains(value)
        }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
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
