// MARK: - Encoding

/// One encoded input: `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`.
public struct Encoding: Sendable, Equatable {
    /// Token ids, special tokens included.
    public var ids: [Int32]
    /// 0 for `[CLS] A [SEP]`, 1 for `B [SEP]`.
    public var typeIds: [Int32]
    /// 1 for every token (an unpadded encoding).
    public var attentionMask: [Int32]

    /// The number of tokens.
    public var count: Int { ids.count }

    public init(ids: [Int32], typeIds: [Int32], attentionMask: [Int32]) {
        precondition(ids.count == typeIds.count && ids.count == attentionMask.count, "Encoding arrays differ in length")
        self.ids = ids
        self.typeIds = typeIds
        self.attentionMask = attentionMask
    }
}

// MARK: - BatchEncoding

/// Several encodings padded on the right to the longest one, as flat row-major `(batch, seqLen)` arrays.
public struct BatchEncoding: Sendable, Equatable {
    /// The number of rows.
    public let batch: Int
    /// The length of every row: the longest encoding of the batch.
    public let seqLen: Int
    /// `(batch, seqLen)` token ids, padding with the `[PAD]` id.
    public var ids: [Int32]
    /// `(batch, seqLen)` token type ids, padding with 0.
    public var typeIds: [Int32]
    /// `(batch, seqLen)` attention mask: 1 for real tokens, 0 for padding.
    public var attentionMask: [Int32]
    /// The unpadded length of each row.
    public var lengths: [Int]

    /// Pads `encodings` to the longest of them with `paddingID`.
    public init(padding encodings: [Encoding], paddingID: Int32) {
        let seqLen = encodings.map(\.count).max() ?? 0
        var ids = [Int32](repeating: paddingID, count: encodings.count * seqLen)
        var typeIds = [Int32](repeating: 0, count: encodings.count * seqLen)
        var attentionMask = [Int32](repeating: 0, count: encodings.count * seqLen)
        for (row, encoding) in encodings.enumerated() {
            let start = row * seqLen
            ids.replaceSubrange(start..<start + encoding.count, with: encoding.ids)
            typeIds.replaceSubrange(start..<start + encoding.count, with: encoding.typeIds)
            attentionMask.replaceSubrange(start..<start + encoding.count, with: encoding.attentionMask)
        }
        self.batch = encodings.count
        self.seqLen = seqLen
        self.ids = ids
        self.typeIds = typeIds
        self.attentionMask = attentionMask
        self.lengths = encodings.map(\.count)
    }

    /// Row `index`, padding included.
    public func row(_ index: Int) -> Encoding {
        let range = index * seqLen..<(index + 1) * seqLen
        return Encoding(
            ids: Array(ids[range]), typeIds: Array(typeIds[range]), attentionMask: Array(attentionMask[range]))
    }
}
