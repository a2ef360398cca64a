import QuiverTensor

// MARK: - TextTokenizer

/// A tokenizer the engine can hold whatever the model family: BERT's WordPiece (`BertTokenizer`), byte-level
/// BPE (RoBERTa, GPT-2) or SentencePiece Unigram (XLM-R) (`SubwordTokenizer`). `Tokenizers.load` picks one
/// from a model folder.
///
/// Every implementation gives the token ids of Hugging Face `tokenizers` (the fast tokenizers of
/// `transformers`) for the same files.
public protocol TextTokenizer: Sendable {
    /// The id padding rows of a batch.
    var paddingID: Int32 { get }
    /// The longest encoding the model accepts, special tokens included (the default `maxLength`).
    var modelMaxLength: Int { get }
    /// The number of ids it can produce (vocabulary and added tokens): the model's word embeddings must cover them.
    var idCount: Int { get }

    /// The model's input for `text` (and `pair`): special tokens around the sequences, type ids, an attention
    /// mask of ones.
    ///
    /// - Parameter maxLength: the longest encoding, special tokens included (default `modelMaxLength`). A pair
    ///   is cut with the `longest_first` strategy; the special tokens are always kept.
    func encode(_ text: String, pair: String?, maxLength: Int?) -> Encoding

    /// Encodes every text (with `pairs[i]` as its second sequence when given and not nil) and pads the
    /// encodings on the right to the longest one.
    func encodeBatch(_ texts: [String], pairs: [String?]?, maxLength: Int?) -> BatchEncoding

    /// The token ids of `text` alone, without special tokens around it.
    func tokenIDs(_ text: String) -> [Int32]

    /// The id of `token` (a vocabulary entry or an added token), or nil.
    func id(for token: String) -> Int32?

    /// The token with id `id`, or nil when out of range.
    func token(for id: Int32) -> String?
}

extension TextTokenizer {
    /// `encode(_:pair:maxLength:)` of a single text.
    public func encode(_ text: String, maxLength: Int? = nil) -> Encoding { encode(text, pair: nil, maxLength: maxLength) }

    /// Encodes every text and pads the encodings on the right (see the requirement).
    ///
    /// - Precondition: `pairs`, when given, has as many elements as `texts`.
    public func encodeBatch(_ texts: [String], pairs: [String?]? = nil, maxLength: Int? = nil) -> BatchEncoding {
        precondition(
            pairs == nil || pairs!.count == texts.count, "encodeBatch: \(texts.count) texts but \(pairs!.count) pairs")
        let encodings = texts.indices.map { index in
            encode(texts[index], pair: pairs?[index], maxLength: maxLength)
        }
        return BatchEncoding(padding: encodings, paddingID: paddingID)
    }

    /// Encodes every text (with `pairs[i]` as its second sequence when given and not nil), unpadded, on `threads`
    /// threads: what a packed pass reads.
    public func encodeAll(
        _ texts: [String], pairs: [String?]? = nil, maxLength: Int? = nil, threads: Int = Parallel.availableCores
    ) -> [Encoding] {
        precondition(pairs == nil || pairs!.count == texts.count, "encodeAll: \(texts.count) texts but \(pairs!.count) pairs")
        // Below a few hundred texts a second thread costs more than it saves.
        let threads = texts.count < 256 ? 1 : max(1, threads)
        var encodings = [Encoding](repeating: Encoding(ids: [], typeIds: [], attentionMask: []), count: texts.count)
        encodings.withUnsafeMutableBufferPointer { output in
            nonisolated(unsafe) let output = output
            Parallel.forEachChunk(of: texts.count, threads: threads) { range in
                for index in range { output[index] = encode(texts[index], pair: pairs?[index], maxLength: maxLength) }
            }
        }
        return encodings
    }
}

extension BertTokenizer: TextTokenizer {
    public var modelMaxLength: Int { configuration.modelMaxLength }
    public var idCount: Int { vocabulary.count }

    public func tokenIDs(_ text: String) -> [Int32] { tokenIDs(text, limit: .max) }
}
