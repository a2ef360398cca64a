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

    /// The children of the root and of the continuation node for ASCII scalars (-1 for none): the first step
    /// of every piece, and the widest nodes, so a direct table beats searching thousands of edges.
    private let rootASCIIChildren: [Int32]
    private let continuationASCIIChildren: [Int32]

    init(vocabulary: Vocabulary, unknownID: Int32, continuingSubwordPrefix: String, maxInputCharsPerWord: Int) {
        let trie = vocabulary.trie
        let continuationNode = trie.walk(continuingSubwordPrefix.unicodeScalars.lazy.map(\.value))
        func asciiChildren(of node: Int32?) -> [Int32] {
            (0..<128).map { scalar in node.flatMap { trie.child(of: $0, UInt32(scalar)) } ?? -1 }
        }
        self.trie = trie
        self.unknownID = unknownID
        self.continuationNode = continuationNode
        self.maxInputCharsPerWord = maxInputCharsPerWord
        self.rootASCIIChildren = asciiChildren(of: TokenTrie.root)
        self.continuationASCIIChildren = asciiChildren(of: continuationNode)
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
            let isFirstPiece = start == word.startIndex
            guard
                var node = firstStep(
                    from: isFirstPiece ? TokenTrie.root : continuationNode, word[start],
                    asciiChildren: isFirstPiece ? rootASCIIChildren : continuationASCIIChildren)
            else {
                ids.removeSubrange(firstPiece...)
                ids.append(unknownID)
                return
            }
            var matchEnd = start + 1
            var matchID = trie.tokenID(at: node)
            var index = start + 1
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

    /// The child of `node` (nil: no such node) along `scalar`, through the ASCII table when possible.
    @inline(__always)
    private func firstStep(from node: Int32?, _ scalar: UInt32, asciiChildren: [Int32]) -> Int32? {
        guard let node else { return nil }
        guard scalar < 128 else { return trie.child(of: node, scalar) }
        let child = asciiChildren[Int(scalar)]
        return child >= 0 ? child : nil
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
    mutating func acceptSpace() {
        finishWord()
    }

    @inline(__always)
    mutating func acceptPunctuation(_ scalar: Unicode.Scalar) {
        finishWord()
        word.append(scalar.value)
        wordLength = 1
        finishWord()
    }

    @inline(__always)
    mutating func acceptWordScalar(_ scalar: Unicode.Scalar) {
        if wordLength <= wordPiece.maxInputCharsPerWord { word.append(scalar.value) }
        wordLength += 1
    }

    /// Encodes the pending word, if any.
    mutating func finishWord() {
        guard wordLength > 0 else { return }
        wordPiece.appendPieces(of: word[...], length: wordLength, to: &ids)
        word.removeAll(keepingCapacity: true)
        wordLength = 0
    }
}
