// MARK: - SubwordTokenizer

/// A byte-level BPE (RoBERTa, GPT-2) or SentencePiece Unigram (XLM-R) tokenizer with the behaviour of Hugging
/// Face `tokenizers`: added tokens are matched first, the rest goes through the normalizer, the pre-tokenizer
/// and the model, and the post-processor puts the special tokens around the sequences.
///
/// ```swift
/// let tokenizer = try Tokenizers.load(folder: robertaFolder)       // any TextTokenizer
/// let encoding = tokenizer.encode("Hello world", pair: nil, maxLength: 128)
/// ```
public struct SubwordTokenizer: TextTokenizer {
    /// The subword model.
    enum Model: Sendable {
        case bpe(BPEModel)
        case unigram(UnigramModel)

        var vocabulary: Vocabulary {
            switch self {
            case .bpe(let model): model.vocabulary
            case .unigram(let model): model.vocabulary
            }
        }

        var unknownID: Int32? {
            switch self {
            case .bpe(let model): model.unknownID
            case .unigram(let model): model.unknownID
            }
        }
    }

    let model: Model
    let normalizer: TextNormalizer?
    let preTokenizer: PreTokenizer
    let postProcessor: PostProcessor
    /// Every added token, and the matchers of those matched in the raw and in the normalized text.
    public let addedTokens: [AddedToken]
    let rawMatcher: AddedTokenMatcher
    let normalizedMatcher: AddedTokenMatcher

    public let paddingID: Int32
    public let modelMaxLength: Int

    init(
        model: Model, normalizer: TextNormalizer?, preTokenizer: PreTokenizer, postProcessor: PostProcessor,
        addedTokens: [AddedToken], paddingID: Int32, modelMaxLength: Int
    ) {
        self.model = model
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.postProcessor = postProcessor
        self.addedTokens = addedTokens
        let raw = addedTokens.filter { !$0.normalized }
        let normalized = addedTokens.filter(\.normalized)
        self.rawMatcher = AddedTokenMatcher(tokens: raw, patterns: raw.map(\.content))
        self.normalizedMatcher = AddedTokenMatcher(
            tokens: normalized, patterns: normalized.map { normalizer?.normalize($0.content) ?? $0.content })
        self.paddingID = paddingID
        self.modelMaxLength = modelMaxLength
    }

    /// The model's vocabulary (added tokens outside it are in `addedTokens`).
    public var vocabulary: Vocabulary { model.vocabulary }

    public var idCount: Int { max(vocabulary.count, Int(addedTokens.map(\.id).max() ?? -1) + 1) }

    // MARK: TextTokenizer

    public func id(for token: String) -> Int32? {
        if let added = addedTokens.last(where: { $0.content.unicodeScalars.elementsEqual(token.unicodeScalars) }) {
            return added.id
        }
        return vocabulary.id(for: token)
    }

    public func token(for id: Int32) -> String? {
        if let added = addedTokens.last(where: { $0.id == id }) { return added.content }
        return vocabulary.token(for: id)
    }

    public func encode(_ text: String, pair: String? = nil, maxLength: Int? = nil) -> Encoding {
        let maxLength = maxLength ?? modelMaxLength
        let added = postProcessor.addedCount(isPair: pair != nil)
        let budget = max(maxLength, added) - added  // never overflows, whatever maxLength is
        let first = tokenIDs(text)
        guard let pair else { return postProcessor.process(Array(first.prefix(budget)), nil) }
        let second = tokenIDs(pair)
        let kept = Truncation.longestFirst(first: first.count, second: second.count, budget: budget)
        return postProcessor.process(Array(first.prefix(kept.first)), Array(second.prefix(kept.second)))
    }

    public func tokenIDs(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        var words = WordList()
        let raw = text.unicodeScalars.map(\.value)
        raw.withUnsafeBufferPointer { raw in
            for segment in rawMatcher.split(raw) {
                switch segment {
                case .token(let id):
                    ids.append(id)
                case .text(let range):
                    appendIDs(
                        ofRaw: UnsafeBufferPointer(rebasing: raw[range]), string: range == raw.indices ? text : nil,
                        isTextStart: range.lowerBound == 0, words: &words, to: &ids)
                }
            }
        }
        return ids
    }

    /// Normalizes a piece of raw text (`string`: the same text as a String, when at hand), then matches the
    /// normalized added tokens in it and runs the pre-tokenizer and the model on the rest.
    private func appendIDs(
        ofRaw raw: UnsafeBufferPointer<UInt32>, string: String?, isTextStart: Bool, words: inout WordList,
        to ids: inout [Int32]
    ) {
        var normalized: [UInt32]
        var isTextStart = isTextStart
        if let normalizer {
            let piece = string ?? Self.string(of: raw)
            normalized = normalizer.normalize(piece, startsAtOrigin: &isTextStart).unicodeScalars.map(\.value)
        } else {
            normalized = Array(raw)
        }
        normalized.withUnsafeBufferPointer { text in
            for segment in normalizedMatcher.split(text) {
                switch segment {
                case .token(let id):
                    ids.append(id)
                case .text(let range):
                    words.removeAll()
                    preTokenizer.split(
                        UnsafeBufferPointer(rebasing: text[range]), isTextStart: isTextStart && range.lowerBound == 0,
                        into: &words)
                    words.forEachWord { word in
                        switch model {
                        case .bpe(let bpe): bpe.appendIDs(of: word, to: &ids)
                        case .unigram(let unigram): unigram.appendIDs(of: word, to: &ids)
                        }
                    }
                }
            }
        }
    }

    /// The String of scalar values (from a String's scalars, so always valid), built through UTF-8.
    private static func string(of scalars: UnsafeBufferPointer<UInt32>) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(scalars.count)
        for value in scalars {
            if value < 0x80 {
                bytes.append(UInt8(value))
            } else {
                bytes.append(contentsOf: UTF8.encode(Unicode.Scalar(value) ?? "\u{FFFD}")!)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
