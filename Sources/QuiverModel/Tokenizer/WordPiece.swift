// MARK: - WordPiece

/// The WordPiece model: splits one word into the longest vocabulary pieces, left to right.
///
/// The first piece is a token as written; the following ones are tokens that start with the continuation
/// prefix (`##`), matched without it. A word with a part that no piece matches, or longer than
/// `maxInputCharsPerWord` scalars, becomes the single unknown token.
struct WordPiece: Sendable {
    let trie: TokenTrie
    let unknownID: Int32
    /// The trie node of the continuation prefix: its subtree holds the continuation pieces. Nil when the
    /// vocabulary has no token starting with the prefix, so a word must then be matched whole.
    let continuationNode: Int32?
    let maxInputCharsPerWord: Int

    init(vocabulary: Vocabulary, unknownID: Int32, continuingSubwordPrefix: String, maxInputCharsPerWord: Int) {
        self.trie = vocabulary.trie
        self.unknownID = unknownID
        self.continuationNode = vocabulary.trie.walk(continuingSubwordPrefix.unicodeScalars.lazy.map(\.value))
        self.maxInputCharsPerWord = maxInputCharsPerWord
    }

    /// Appends the piece ids of `word` (its scalars) to `ids`. `length` is the word's full length in scalars,
    /// which may exceed `word.count` when the caller stopped storing an over-long word.
    func appendPieces(of word: ArraySlice<UInt32>, length: Int, to ids: inout [Int32]) {
        guard length > 0 else { return }
        guard length <= maxInputCharsPerWord else {
            ids.append(unknownID)
            return
        }
        let firstPiece = ids.count
        var start = word.startIndex
        while start < word.endIndex {
            // Greedy longest match: walk the trie as far as the word allows, remembering the last node where a
            // token ends. This is the "try the longest substring, then shorten it" loop of BERT in one pass.
            guard var node = start == word.startIndex ? TokenTrie.root : continuationNode else {
                ids.removeSubrange(firstPiece...)
                ids.append(unknownID)
                return
            }
            var matchEnd = start
            var matchID: Int32 = -1
            var index = start
            while index < word.endIndex, let next = trie.child(of: node, word[index]) {
                node = next
                index += 1
                let id = trie.tokenID(at: node)
                if id >= 0 {
                    matchEnd = index
                    matchID = id
                }
            }
            guard matchID >= 0 else {
                ids.removeSubrange(firstPiece...)
                ids.append(unknownID)
                return
            }
            ids.append(matchID)
            start = matchEnd
        }
    }
}

// MARK: - WordPieceWordSink

/// The BERT pre-tokenizer fused with WordPiece: cuts the normalized scalars into words (whitespace separates
/// words, every punctuation scalar is a word of its own) and appends each word's piece ids.
struct WordPieceWordSink: NormalizedScalarSink {
    let wordPiece: WordPiece
    /// Stop accepting input once this many ids have been produced.
    let limit: Int
    var ids: [Int32]
    /// The current word's scalars; at most `maxInputCharsPerWord + 1` are kept, enough to know it is too long.
    private var word: [UInt32] = []
    private var wordLength = 0

    init(wordPiece: WordPiece, ids: [Int32], limit: Int) {
        self.wordPiece = wordPiece
        self.ids = ids
        self.limit = limit
        word.reserveCapacity(min(wordPiece.maxInputCharsPerWord + 1, 128))
    }

    var isFull: Bool { ids.count >= limit }

    @inline(__always)
    mutating func accept(_ scalar: Unicode.Scalar) {
        if BertCharacterRules.isWhitespace(scalar) {
            finishWord()
        } else if BertCharacterRules.isPunctuation(scalar) {
            finishWord()
            word.append(scalar.value)
            wordLength = 1
            finishWord()
        } else {
            if wordLength <= wordPiece.maxInputCharsPerWord { word.append(scalar.value) }
            wordLength += 1
        }
    }

    /// Encodes the pending word, if any.
    mutating func finishWord() {
        guard wordLength > 0 else { return }
        wordPiece.appendPieces(of: word[...], length: wordLength, to: &ids)
        word.removeAll(keepingCapacity: true)
        wordLength = 0
    }
}
