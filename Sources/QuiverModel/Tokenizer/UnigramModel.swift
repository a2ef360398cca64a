// MARK: - UnigramModel

/// A SentencePiece Unigram model as Hugging Face `tokenizers` runs it (`models.Unigram`): the segmentation of
/// a word with the highest total piece score (Viterbi). A scalar no piece covers costs the lowest piece score
/// minus 10 and becomes the unknown piece; consecutive unknown scalars are fused into one.
struct UnigramModel: Sendable {
    let vocabulary: Vocabulary
    /// The log-probability of each piece, by id.
    let scores: [Double]
    let unknownID: Int32
    /// The score of an unknown scalar: the lowest piece score minus 10.
    let unknownScore: Double
    let byteFallback: Bool
    let byteTokenIDs: [Int32]

    /// - Throws: `.invalidJSON`-style errors (via `invalid`) for a score that is not finite, or an unknown id out
    ///   of range.
    init(
        vocabulary: Vocabulary, scores: [Double], unknownID: Int, byteFallback: Bool,
        invalid: (_ field: String, _ reason: String) -> TokenizerError
    ) throws(TokenizerError) {
        guard scores.count == vocabulary.count else { throw invalid("vocab", "scores and pieces differ in count") }
        guard unknownID >= 0, unknownID < vocabulary.count else {
            throw invalid("unk_id", "\(unknownID) is outside 0..<\(vocabulary.count)")
        }
        if let bad = scores.firstIndex(where: { !$0.isFinite }) {
            throw invalid("vocab", "the score of piece \(bad) is not a finite number")
        }
        self.vocabulary = vocabulary
        self.scores = scores
        self.unknownID = Int32(unknownID)
        self.unknownScore = (scores.min() ?? 0) - 10
        self.byteFallback = byteFallback
        self.byteTokenIDs = byteTokenIDTable(vocabulary)
    }

    /// Appends the ids of the best segmentation of `word` to `ids`.
    func appendIDs(of word: UnsafeBufferPointer<UInt32>, to ids: inout [Int32]) {
        let count = word.count
        guard count > 0 else { return }
        // best[i]: the best path covering word[..<i]; it ends with piece `pieceID[i]` starting at `startOf[i]`.
        var bestScore = [Double](repeating: 0, count: count + 1)
        var startOf = [Int32](repeating: -1, count: count + 1)
        var pieceID = [Int32](repeating: 0, count: count + 1)
        let trie = vocabulary.trie
        for start in 0..<count {
            let scoreHere = bestScore[start]
            var coversOneScalar = false
            var node = TokenTrie.root
            var end = start
            // Every piece starting here, shortest first; ties keep the first path found.
            while end < count, let next = trie.child(of: node, word[end]) {
                node = next
                end += 1
                let id = trie.tokenID(at: node)
                guard id >= 0 else { continue }
                let candidate = scores[Int(id)] + scoreHere
                if startOf[end] < 0 || candidate > bestScore[end] {
                    bestScore[end] = candidate
                    startOf[end] = Int32(start)
                    pieceID[end] = id
                }
                if end == start + 1 { coversOneScalar = true }
            }
            if !coversOneScalar {
                let candidate = unknownScore + scoreHere
                if startOf[start + 1] < 0 || candidate > bestScore[start + 1] {
                    bestScore[start + 1] = candidate
                    startOf[start + 1] = Int32(start)
                    pieceID[start + 1] = unknownID
                }
            }
        }
        // Walk back from the end; runs of unknown pieces become one piece.
        var pieces: [(range: Range<Int>, id: Int32)] = []
        var end = count
        var unknownRunStart = -1
        var unknownRunEnd = -1
        while end > 0 {
            let start = Int(startOf[end])
            if pieceID[end] == unknownID {
                if unknownRunStart < 0 { unknownRunEnd = end }
                unknownRunStart = start
            } else {
                if unknownRunStart >= 0 {
                    pieces.append((unknownRunStart..<unknownRunEnd, unknownID))
                    unknownRunStart = -1
                }
                pieces.append((start..<end, pieceID[end]))
            }
            end = start
        }
        if unknownRunStart >= 0 { pieces.append((unknownRunStart..<unknownRunEnd, unknownID)) }
        for (range, id) in pieces.reversed() {
            guard id == unknownID else {
                ids.append(id)
                continue
            }
            // A fused unknown run is looked up as a whole, then as bytes with byte fallback.
            let text = UnsafeBufferPointer(rebasing: word[range])
            if let whole = trie.id(of: text) {
                ids.append(whole)
                continue
            }
            if byteFallback {
                var bytes: [UInt8] = []
                for value in text { bytes.append(contentsOf: String(Unicode.Scalar(value) ?? "\u{FFFD}").utf8) }
                let byteIDs = bytes.map { byteTokenIDs[Int($0)] }
                if byteIDs.allSatisfy({ $0 >= 0 }) {
                    ids.append(contentsOf: byteIDs)
                    continue
                }
            }
            ids.append(unknownID)
        }
    }
}
