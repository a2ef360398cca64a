// MARK: - AddedToken

/// A token of tokenizer.json's `added_tokens` (special tokens such as `<s>`, `<mask>`, and user-added words):
/// matched in the text before the model runs, and given its id directly.
public struct AddedToken: Sendable, Equatable {
    public var content: String
    public var id: Int32
    /// Matches only when no word character (`\w`) touches it on either side.
    public var singleWord = false
    /// The match takes the whitespace before it (`<mask>` in RoBERTa) …
    public var leftStrip = false
    /// … or after it.
    public var rightStrip = false
    /// Matched in the normalized text (as normalized by the tokenizer's normalizer) instead of the raw text.
    public var normalized = false
    public var special = false

    public init(
        content: String, id: Int32, singleWord: Bool = false, leftStrip: Bool = false, rightStrip: Bool = false,
        normalized: Bool = false, special: Bool = false
    ) {
        self.content = content
        self.id = id
        self.singleWord = singleWord
        self.leftStrip = leftStrip
        self.rightStrip = rightStrip
        self.normalized = normalized
        self.special = special
    }
}

// MARK: - AddedTokenMatcher

/// Finds added tokens in a text as tokenizers' `AddedVocabulary` does: leftmost-longest matches, a
/// `singleWord` match discarded when a word character touches it, `leftStrip`/`rightStrip` widening the match
/// over neighbouring whitespace.
struct AddedTokenMatcher: Sendable {
    /// A piece of the text: an added token, or a range of scalars for the normalizer and the model.
    enum Segment: Equatable {
        case token(Int32)
        case text(Range<Int>)
    }

    private let tokens: [AddedToken]
    /// Token scalars → index in `tokens`.
    private let trie: TokenTrie
    private let firstScalars: Set<UInt32>

    var isEmpty: Bool { tokens.isEmpty }

    /// A matcher of `tokens` spelled as `patterns` (their content, or normalized content). Empty patterns never
    /// match; of two identical patterns the later one wins.
    init(tokens: [AddedToken], patterns: [String]) {
        var entries: [[UInt32]: Int32] = [:]
        for (index, pattern) in patterns.enumerated() where !pattern.isEmpty {
            entries[pattern.unicodeScalars.map(\.value)] = Int32(index)
        }
        self.tokens = tokens
        self.trie = try! TokenTrie(tokens: entries.map { (scalars: $0.key, id: $0.value) })  // keys are unique
        self.firstScalars = Set(entries.keys.map { $0[0] })
    }

    /// The segments of `text`: every range between matches (empty ones left out) and every match.
    func split(_ text: UnsafeBufferPointer<UInt32>) -> [Segment] {
        guard !tokens.isEmpty else { return text.isEmpty ? [] : [.text(0..<text.count)] }
        var segments: [Segment] = []
        var segmentStart = 0
        var searchFrom = 0
        while searchFrom < text.count {
            guard let match = longestMatch(in: text, at: searchFrom) else {
                searchFrom += 1
                continue
            }
            let token = tokens[Int(match.index)]
            searchFrom = match.end
            var start = match.start
            var end = match.end
            if token.singleWord {
                let wordBefore = start > 0 && Self.isWordScalar(text[start - 1])
                let wordAfter = end < text.count && Self.isWordScalar(text[end])
                if wordBefore || wordAfter { continue }
            }
            if token.leftStrip {
                while start > segmentStart, Self.isWhitespace(text[start - 1]) { start -= 1 }
            }
            if token.rightStrip {
                while end < text.count, Self.isWhitespace(text[end]) { end += 1 }
                searchFrom = end
            }
            if segmentStart < start { segments.append(.text(segmentStart..<start)) }
            segments.append(.token(token.id))
            segmentStart = end
        }
        if segmentStart < text.count { segments.append(.text(segmentStart..<text.count)) }
        return segments
    }

    /// The longest pattern starting at `start`, if any.
    private func longestMatch(
        in text: UnsafeBufferPointer<UInt32>, at start: Int
    ) -> (index: Int32, start: Int, end: Int)? {
        guard firstScalars.contains(text[start]) else { return nil }
        var node = TokenTrie.root
        var position = start
        var best: (index: Int32, start: Int, end: Int)?
        while position < text.count, let next = trie.child(of: node, text[position]) {
            node = next
            position += 1
            let index = trie.tokenID(at: node)
            if index >= 0 { best = (index, start, position) }
        }
        return best
    }

    /// Rust regex's Unicode `\w`: Alphabetic, marks, decimal digits, connector punctuation, Join_Control.
    static func isWordScalar(_ value: UInt32) -> Bool {
        guard let scalar = Unicode.Scalar(value) else { return false }
        let properties = scalar.properties
        if properties.isAlphabetic || properties.isJoinControl { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }

    static func isWhitespace(_ value: UInt32) -> Bool {
        Unicode.Scalar(value)?.properties.isWhitespace ?? false
    }
}
