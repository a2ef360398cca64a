// MARK: - Split pre-tokenizer

/// tokenizers' `Split` pre-tokenizer (and `Whitespace`, `WhitespaceSplit`, `Digits`, `Punctuation`, which are
/// splits too): the text is cut into the matches of `pattern` and the gaps between them, `invert` swapping
/// which is which, and `behavior` decides what becomes of the matches.
struct SplitRule: @unchecked Sendable {  // Regex is immutable once built
    let pattern: SplitPattern
    let behavior: SplitBehavior
    let invert: Bool

    /// Appends the pieces of `text` to `words`, as tokenizers' `NormalizedString::split` cuts it.
    func split(_ text: UnsafeBufferPointer<UInt32>, into words: inout WordList) {
        guard !text.isEmpty else { return }
        var pieces = pattern.pieces(of: text)
        if invert {
            for index in pieces.indices { pieces[index].isMatch.toggle() }
        }
        for piece in behavior.apply(to: pieces) where !piece.isRemoved && !piece.range.isEmpty {
            words.scalars.append(contentsOf: UnsafeBufferPointer(rebasing: text[piece.range]))
            words.finishWord()
        }
    }

    /// `Whitespace`: runs of word characters and runs of other non-space characters (`\w+|[^\w\s]+`), spaces
    /// dropped.
    static func whitespace() -> SplitRule {
        SplitRule(pattern: .regex(wordsOrSymbols), behavior: .removed, invert: true)
    }

    // Built once: compiling a Regex is slow. The pattern is a literal, so it always compiles.
    nonisolated(unsafe) private static let wordsOrSymbols: Regex<AnyRegexOutput> =
        try! Regex(#"\w+|[^\w\s]+"#).matchingSemantics(.unicodeScalar)
}

/// A scalar range of the text and whether it matched the pattern.
struct SplitPiece {
    var range: Range<Int>
    var isMatch: Bool
}

/// What a split keeps, as a range and whether it is dropped.
struct KeptPiece {
    var range: Range<Int>
    var isRemoved: Bool
}

/// What `SplitRule` finds: a regular expression, a literal string or one character class.
enum SplitPattern {
    /// A regular expression (Oniguruma's syntax in tokenizers; Swift `Regex` with Unicode-scalar semantics here).
    case regex(Regex<AnyRegexOutput>)
    /// A literal, matched without overlap from the left. Never empty.
    case literal([UInt32])
    /// Every scalar of the class, each one a match of its own.
    case character(CharacterTest)

    /// The matches and the gaps between them, in order, covering the whole (non-empty) text. A regex's empty
    /// matches are kept (they change how the merging behaviours group pieces), as tokenizers keeps them.
    func pieces(of text: UnsafeBufferPointer<UInt32>) -> [SplitPiece] {
        var pieces: [SplitPiece] = []
        var previousEnd = 0
        func addMatch(_ range: Range<Int>) {
            if previousEnd != range.lowerBound {
                pieces.append(SplitPiece(range: previousEnd..<range.lowerBound, isMatch: false))
            }
            pieces.append(SplitPiece(range: range, isMatch: true))
            previousEnd = range.upperBound
        }
        switch self {
        case .regex(let regex):
            var view = String.UnicodeScalarView()
            view.append(contentsOf: text.lazy.map { Unicode.Scalar($0) ?? "\u{FFFD}" })
            let string = String(view)
            let scalars = string.unicodeScalars
            // Match bounds become scalar offsets by walking forward from the previous bound.
            var cursor = (index: scalars.startIndex, offset: 0)
            func offset(of index: String.Index) -> Int {
                cursor = (index, cursor.offset + scalars.distance(from: cursor.index, to: index))
                return cursor.offset
            }
            for match in string.matches(of: regex) {
                let start = offset(of: match.range.lowerBound)
                addMatch(start..<offset(of: match.range.upperBound))
            }
        case .literal(let literal):
            var index = 0
            while index + literal.count <= text.count {
                if text[index] == literal[0], (1..<literal.count).allSatisfy({ text[index + $0] == literal[$0] }) {
                    addMatch(index..<index + literal.count)
                    index += literal.count
                } else {
                    index += 1
                }
            }
        case .character(let test):
            for index in text.indices where test.matches(text[index]) { addMatch(index..<index + 1) }
        }
        if previousEnd != text.count { pieces.append(SplitPiece(range: previousEnd..<text.count, isMatch: false)) }
        return pieces
    }
}

/// The character classes of `WhitespaceSplit`, `Digits` and `Punctuation`, as Rust's `char` defines them.
enum CharacterTest {
    /// `char::is_whitespace`: the White_Space property.
    case whitespace
    /// `char::is_numeric`: the general categories Nd, Nl and No.
    case numeric
    /// tokenizers' `is_punc`: ASCII punctuation (which includes symbols such as `$` and `+`) or a Unicode
    /// punctuation category (P*).
    case punctuation

    func matches(_ value: UInt32) -> Bool {
        guard let scalar = Unicode.Scalar(value) else { return false }
        switch self {
        case .whitespace:
            return scalar.properties.isWhitespace
        case .numeric:
            switch scalar.properties.generalCategory {
            case .decimalNumber, .letterNumber, .otherNumber: return true
            default: return false
            }
        case .punctuation:
            if value < 0x80 { return BertCharacterRules.isASCIIPunctuation(value) }
            switch scalar.properties.generalCategory {
            case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                .initialPunctuation, .finalPunctuation, .otherPunctuation:
                return true
            default:
                return false
            }
        }
    }
}

/// tokenizers' `SplitDelimiterBehavior`: what a split does with the matches.
enum SplitBehavior: String {
    /// Matches are dropped.
    case removed = "Removed"
    /// Every match is a piece of its own.
    case isolated = "Isolated"
    /// A match joins the piece before it.
    case mergedWithPrevious = "MergedWithPrevious"
    /// A match joins the piece after it.
    case mergedWithNext = "MergedWithNext"
    /// Consecutive matches form one piece (and consecutive gaps, which do not occur).
    case contiguous = "Contiguous"

    /// The pieces kept, as tokenizers folds them (`normalizer.rs`, `NormalizedString::split`).
    func apply(to pieces: [SplitPiece]) -> [KeptPiece] {
        var kept: [KeptPiece] = []
        kept.reserveCapacity(pieces.count)
        switch self {
        case .removed:
            for piece in pieces { kept.append(KeptPiece(range: piece.range, isRemoved: piece.isMatch)) }
        case .isolated:
            for piece in pieces { kept.append(KeptPiece(range: piece.range, isRemoved: false)) }
        case .contiguous:
            var previousMatch = false
            for piece in pieces {
                if piece.isMatch == previousMatch, let last = kept.indices.last {
                    kept[last].range = kept[last].range.lowerBound..<piece.range.upperBound
                } else {
                    kept.append(KeptPiece(range: piece.range, isRemoved: false))
                }
                previousMatch = piece.isMatch
            }
        case .mergedWithPrevious:
            var previousMatch = false
            for piece in pieces {
                if piece.isMatch, !previousMatch, let last = kept.indices.last {
                    kept[last].range = kept[last].range.lowerBound..<piece.range.upperBound
                } else {
                    kept.append(KeptPiece(range: piece.range, isRemoved: false))
                }
                previousMatch = piece.isMatch
            }
        case .mergedWithNext:
            var previousMatch = false
            for piece in pieces.reversed() {
                if piece.isMatch, !previousMatch, let last = kept.indices.last {
                    kept[last].range = piece.range.lowerBound..<kept[last].range.upperBound
                } else {
                    kept.append(KeptPiece(range: piece.range, isRemoved: false))
                }
                previousMatch = piece.isMatch
            }
            kept.reverse()
        }
        return kept
    }
}
