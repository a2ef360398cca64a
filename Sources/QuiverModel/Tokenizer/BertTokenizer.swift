// MARK: - BertTokenizer

/// BERT's WordPiece tokenizer, with the behaviour of Hugging Face `BertTokenizerFast` (`tokenizers`).
///
/// ```swift
/// let tokenizer = try BertTokenizer(folder: modelFolder)        // tokenizer.json or vocab.txt
/// tokenizer.tokenize("Ångström café")                           // ["ang", "##strom", "cafe"]
/// let encoding = tokenizer.encode("How old are you?", pair: "Six.", maxLength: 128)
/// let batch = tokenizer.encodeBatch(["first text", "second"])  // padded to the longest
/// ```
///
/// The text goes through: never-split special tokens (`[CLS]`, `[SEP]`, … written in the text are kept whole),
/// normalization (`BertNormalizer`), splitting on whitespace and punctuation, then WordPiece.
/// Work is linear in the length of the text.
public struct BertTokenizer: Sendable {
    /// The tokens and their ids.
    public let vocabulary: Vocabulary
    /// The settings the tokenizer was built with.
    public let configuration: Configuration

    public let unknownID: Int32
    public let classifierID: Int32
    public let separatorID: Int32
    public let paddingID: Int32

    let normalizer: BertNormalizer
    let wordPiece: WordPiece
    /// The never-split tokens (special tokens) by their UTF-8 bytes, matched in the raw text, with their
    /// vocabulary ids; and the bytes they can start with.
    let specialTokens: TokenTrie
    let specialTokenLeadBytes: ByteSet

    /// A tokenizer over `vocabulary`.
    /// - Throws: `TokenizerError.missingSpecialToken` when the unknown, classifier, separator or padding token
    ///   (or an additional special token) is not in the vocabulary; `.invalidConfiguration` for a
    ///   non-positive `maxInputCharsPerWord` or `modelMaxLength`.
    public init(vocabulary: Vocabulary, configuration: Configuration = .uncased) throws(TokenizerError) {
        func requireID(_ token: String, role: String) throws(TokenizerError) -> Int32 {
            guard let id = vocabulary.id(for: token) else {
                throw .missingSpecialToken(source: vocabulary.source, role: role, token: token)
            }
            return id
        }
        unknownID = try requireID(configuration.unknownToken, role: "unknown")
        classifierID = try requireID(configuration.classifierToken, role: "classifier")
        separatorID = try requireID(configuration.separatorToken, role: "separator")
        paddingID = try requireID(configuration.paddingToken, role: "padding")
        var specials: [(token: String, id: Int32)] = [
            (configuration.unknownToken, unknownID), (configuration.classifierToken, classifierID),
            (configuration.separatorToken, separatorID), (configuration.paddingToken, paddingID),
        ]
        if let mask = configuration.maskToken, let maskID = vocabulary.id(for: mask) {
            specials.append((mask, maskID))
        }
        for token in configuration.additionalSpecialTokens {
            specials.append((token, try requireID(token, role: "additional special")))
        }
        // Matched on UTF-8 bytes. The same token may fill two roles; empty tokens can never be matched.
        var seen = Set<[UInt32]>()
        let specialBytes = specials.map { (scalars: $0.token.utf8.map(UInt32.init), id: $0.id) }
            .filter { !$0.scalars.isEmpty && seen.insert($0.scalars).inserted }
        guard configuration.maxInputCharsPerWord > 0 else {
            throw .invalidConfiguration(
                field: "maxInputCharsPerWord", reason: "\(configuration.maxInputCharsPerWord) is not positive")
        }
        guard configuration.modelMaxLength > 0 else {
            throw .invalidConfiguration(
                field: "modelMaxLength", reason: "\(configuration.modelMaxLength) is not positive")
        }

        self.vocabulary = vocabulary
        self.configuration = configuration
        self.specialTokens = try! TokenTrie(tokens: specialBytes)  // duplicates were removed above
        self.specialTokenLeadBytes = ByteSet(specialBytes.map { UInt8($0.scalars[0]) })
        self.normalizer = BertNormalizer(
            cleanText: configuration.cleanText, handleChineseChars: configuration.tokenizeChineseChars,
            stripAccents: configuration.stripsAccents, lowercase: configuration.lowercase)
        self.wordPiece = WordPiece(
            vocabulary: vocabulary, unknownID: unknownID,
            continuingSubwordPrefix: configuration.continuingSubwordPrefix,
            maxInputCharsPerWord: configuration.maxInputCharsPerWord)
    }

    // MARK: - Tokens

    /// The WordPiece tokens of `text`, without `[CLS]`/`[SEP]`.
    public func tokenize(_ text: String) -> [String] {
        tokenIDs(text).map { vocabulary.tokens[Int($0)] }
    }

    /// The token ids of `text`, without `[CLS]`/`[SEP]`, at most `limit` of them.
    public func tokenIDs(_ text: String, limit: Int = .max) -> [Int32] {
        var ids: [Int32] = []
        appendTokenIDs(of: text, to: &ids, limit: max(0, limit))
        return ids
    }

    /// The id of `token`, or nil when it is not in the vocabulary.
    public func id(for token: String) -> Int32? { vocabulary.id(for: token) }

    /// The token with id `id`, or nil when out of range.
    public func token(for id: Int32) -> String? { vocabulary.token(for: id) }

    // MARK: - Encoding

    /// `[CLS] text [SEP]`, or `[CLS] text [SEP] pair [SEP]` with type ids 0 then 1.
    ///
    /// - Parameter maxLength: the longest encoding, special tokens included (default
    ///   `configuration.modelMaxLength`). A pair is cut with the `longest_first` strategy. The special tokens
    ///   are always kept, so a `maxLength` below 2 (3 for a pair) still gives 2 (3) tokens.
    public func encode(_ text: String, pair: String? = nil, maxLength: Int? = nil) -> Encoding {
        let maxLength = maxLength ?? configuration.modelMaxLength
        guard let pair else {
            let budget = max(maxLength, 2) - 2  // never overflows, whatever maxLength is
            var ids: [Int32] = [classifierID]
            appendTokenIDs(of: text, to: &ids, limit: budget + 1)
            ids.append(separatorID)
            let ones = [Int32](repeating: 1, count: ids.count)
            return Encoding(ids: ids, typeIds: [Int32](repeating: 0, count: ids.count), attentionMask: ones)
        }
        let budget = max(maxLength, 3) - 3
        let first = tokenIDs(text)
        let second = tokenIDs(pair)
        let kept = Truncation.longestFirst(first: first.count, second: second.count, budget: budget)
        var ids: [Int32] = []
        ids.reserveCapacity(kept.first + kept.second + 3)
        ids.append(classifierID)
        ids.append(contentsOf: first.prefix(kept.first))
        ids.append(separatorID)
        let firstCount = ids.count
        ids.append(contentsOf: second.prefix(kept.second))
        ids.append(separatorID)
        var typeIds = [Int32](repeating: 1, count: ids.count)
        typeIds.replaceSubrange(0..<firstCount, with: repeatElement(0, count: firstCount))
        return Encoding(ids: ids, typeIds: typeIds, attentionMask: [Int32](repeating: 1, count: ids.count))
    }

    // MARK: - Pipeline

    /// Appends the token ids of `text` to `ids`, stopping once `ids` holds `limit` ids.
    ///
    /// One pass over the UTF-8 bytes: special tokens are matched on the raw bytes, every other scalar goes
    /// through the normalizer into the pre-tokenizer/WordPiece sink. Work is linear in the text's length, and
    /// stops early once `limit` ids exist.
    func appendTokenIDs(of text: String, to ids: inout [Int32], limit: Int) {
        guard ids.count < limit else { return }
        var sink = WordPieceWordSink(wordPiece: wordPiece, ids: [], limit: limit)
        swap(&sink.ids, &ids)
        defer {
            swap(&sink.ids, &ids)
            if ids.count > limit { ids.removeSubrange(limit...) }
        }
        var text = text
        text.withUTF8 { bytes in
            var index = 0
            while index < bytes.count, !sink.isFull {
                if specialTokenLeadBytes.contains(bytes[index]), let match = matchSpecialToken(in: bytes, at: index) {
                    sink.finishWord()
                    guard !sink.isFull else { return }
                    sink.ids.append(match.id)
                    index = match.end
                    continue
                }
                let (scalar, length) = decodeScalar(in: bytes, at: index)
                normalizer.normalize(scalar, into: &sink)
                index += length
            }
        }
        sink.finishWord()
    }

    /// The longest special token whose UTF-8 bytes start at `start`, with the offset just past it.
    private func matchSpecialToken(in bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> (id: Int32, end: Int)? {
        var node = TokenTrie.root
        var index = start
        var match: (id: Int32, end: Int)?
        while index < bytes.count, let next = specialTokens.child(of: node, UInt32(bytes[index])) {
            node = next
            index += 1
            let id = specialTokens.tokenID(at: node)
            if id >= 0 { match = (id, index) }
        }
        return match
    }
}

// MARK: - UTF-8

/// The scalar whose UTF-8 encoding starts at `index`, and the encoding's length. `bytes` must be valid UTF-8,
/// which every Swift `String` is.
@inline(__always)
func decodeScalar(in bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (Unicode.Scalar, Int) {
    let lead = UInt32(bytes[index])
    let value: UInt32
    let length: Int
    if lead < 0x80 {
        return (Unicode.Scalar(UInt8(lead)), 1)
    } else if lead < 0xE0 {
        value = (lead & 0x1F) << 6 | UInt32(bytes[index + 1] & 0x3F)
        length = 2
    } else if lead < 0xF0 {
        value = (lead & 0x0F) << 12 | UInt32(bytes[index + 1] & 0x3F) << 6 | UInt32(bytes[index + 2] & 0x3F)
        length = 3
    } else {
        value =
            (lead & 0x07) << 18 | UInt32(bytes[index + 1] & 0x3F) << 12 | UInt32(bytes[index + 2] & 0x3F) << 6
            | UInt32(bytes[index + 3] & 0x3F)
        length = 4
    }
    return (Unicode.Scalar(value) ?? "\u{FFFD}", length)
}

/// A set of bytes: the first UTF-8 bytes of the special tokens, to skip the trie for every other byte.
struct ByteSet: Sendable {
    private var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    init<S: Sequence<UInt8>>(_ bytes: S) {
        for byte in bytes {
            let bit = UInt64(1) << UInt64(byte & 63)
            switch byte >> 6 {
            case 0: bits.0 |= bit
            case 1: bits.1 |= bit
            case 2: bits.2 |= bit
            default: bits.3 |= bit
            }
        }
    }

    @inline(__always)
    func contains(_ byte: UInt8) -> Bool {
        let word: UInt64
        switch byte >> 6 {
        case 0: word = bits.0
        case 1: word = bits.1
        case 2: word = bits.2
        default: word = bits.3
        }
        return word & (UInt64(1) << UInt64(byte & 63)) != 0
    }
}
