/// Token ids of a batch, as the encoder reads them: padded to one length, or packed (each item only its own tokens,
/// one after the other; `layout` says where each item's rows are).
///
/// ```swift
/// let padded = EncoderInput(tokenizer.encodeBatch(["first text", "a second, longer text"], maxLength: 128))
/// let packed = EncoderInput(packing: ["first text", "a second, longer text"].map { tokenizer.encode($0, maxLength: 128) })
/// let states = try encoder.forward(packed)   // the same vectors for the items' tokens, fewer rows computed
/// ```
public struct EncoderInput: Sendable, Equatable {
    /// Where each item's rows are.
    public let layout: SequenceLayout
    /// ids is (rows): token ids, padding included.
    public let ids: [Int32]
    /// typeIds is (rows): 0 for the first sequence, 1 for the second of a pair.
    public let typeIds: [Int32]
    /// attentionMask is (rows): 1 for tokens, 0 for padding.
    public let attentionMask: [Int32]

    /// The number of items.
    public var batch: Int { layout.batch }
    /// The length of the longest item: every item's length when the batch is padded.
    public var sequenceLength: Int { layout.longest }

    /// An input from flat arrays, one value per row of `layout`.
    ///
    /// - Throws: `EncoderError.shapeMismatch` when an array does not hold `layout.rows` values.
    public init(layout: SequenceLayout, ids: [Int32], typeIds: [Int32]? = nil, attentionMask: [Int32]? = nil) throws(EncoderError) {
        let count = layout.rows
        for (name, array) in [("ids", ids), ("type ids", typeIds ?? ids), ("attention mask", attentionMask ?? ids)]
        where array.count != count {
            throw .shapeMismatch("\(name) hold \(array.count) values for \(layout.batch) items of \(count) tokens in all")
        }
        self.layout = layout
        self.ids = ids
        self.typeIds = typeIds ?? [Int32](repeating: 0, count: count)
        self.attentionMask = attentionMask ?? [Int32](repeating: 1, count: count)
    }

    /// A padded input from flat row-major arrays, (batch, sequenceLength) each.
    ///
    /// - Throws: `EncoderError.shapeMismatch` when an array does not hold `batch · sequenceLength` values.
    public init(
        batch: Int, sequenceLength: Int, ids: [Int32], typeIds: [Int32]? = nil, attentionMask: [Int32]? = nil
    ) throws(EncoderError) {
        guard batch >= 0, sequenceLength >= 0 else {
            throw .shapeMismatch("batch \(batch) and sequence length \(sequenceLength) must not be negative")
        }
        try self.init(
            layout: SequenceLayout(batch: batch, length: sequenceLength), ids: ids, typeIds: typeIds,
            attentionMask: attentionMask)
    }

    /// The tokenizer's padded batch.
    public init(_ encoding: BatchEncoding) {
        layout = SequenceLayout(batch: encoding.batch, length: encoding.seqLen)
        ids = encoding.ids
        typeIds = encoding.typeIds
        attentionMask = encoding.attentionMask
    }

    /// One unpadded encoding as a batch of one.
    public init(_ encoding: Encoding) {
        self.init(packing: [encoding])
    }

    /// The same items without their right padding (the rows after each item's last token), packed.
    public func withoutPadding() -> EncoderInput {
        let lengths = (0..<batch).map { item in
            let rows = layout.rows(of: item)
            return (attentionMask[rows].lastIndex { $0 != 0 }).map { $0 - rows.lowerBound + 1 } ?? 0
        }
        let kept = (0..<batch).flatMap { layout.starts[$0]..<(layout.starts[$0] + lengths[$0]) }
        return EncoderInput(
            layout: SequenceLayout(lengths: lengths), checkedIDs: kept.map { ids[$0] }, typeIds: kept.map { typeIds[$0] },
            attentionMask: kept.map { attentionMask[$0] })
    }

    /// Arrays known to fit `layout`.
    private init(layout: SequenceLayout, checkedIDs ids: [Int32], typeIds: [Int32], attentionMask: [Int32]) {
        self.layout = layout
        self.ids = ids
        self.typeIds = typeIds
        self.attentionMask = attentionMask
    }

    /// Encodings packed without padding: item `i` is `encodings[i]`'s tokens and nothing else.
    public init(packing encodings: [Encoding]) {
        layout = SequenceLayout(lengths: encodings.map(\.count))
        ids = Array(encodings.map(\.ids).joined())
        typeIds = Array(encodings.map(\.typeIds).joined())
        attentionMask = Array(encodings.map(\.attentionMask).joined())
    }
}
