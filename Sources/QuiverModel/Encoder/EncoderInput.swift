/// Token ids of a batch, padded to one length: what the encoder reads.
///
/// ```swift
/// let input = EncoderInput(tokenizer.encodeBatch(["first text", "a second, longer text"], maxLength: 128))
/// let states = try encoder.forward(input)
/// ```
public struct EncoderInput: Sendable, Equatable {
    /// The number of items (rows).
    public let batch: Int
    /// The padded length of every item.
    public let sequenceLength: Int
    /// ids is (batch, sequenceLength): token ids, padding included.
    public let ids: [Int32]
    /// typeIds is (batch, sequenceLength): 0 for the first sequence, 1 for the second of a pair.
    public let typeIds: [Int32]
    /// attentionMask is (batch, sequenceLength): 1 for tokens, 0 for padding.
    public let attentionMask: [Int32]

    /// An input from flat row-major arrays.
    ///
    /// - Throws: `EncoderError.shapeMismatch` when an array does not hold `batch · sequenceLength` values.
    public init(
        batch: Int, sequenceLength: Int, ids: [Int32], typeIds: [Int32]? = nil, attentionMask: [Int32]? = nil
    ) throws(EncoderError) {
        let count = batch * sequenceLength
        guard batch >= 0, sequenceLength >= 0 else {
            throw .shapeMismatch("batch \(batch) and sequence length \(sequenceLength) must not be negative")
        }
        for (name, array) in [("ids", ids), ("type ids", typeIds ?? ids), ("attention mask", attentionMask ?? ids)]
        where array.count != count {
            throw .shapeMismatch(
                "\(name) hold \(array.count) values, batch \(batch) × length \(sequenceLength) is \(count)")
        }
        self.batch = batch
        self.sequenceLength = sequenceLength
        self.ids = ids
        self.typeIds = typeIds ?? [Int32](repeating: 0, count: count)
        self.attentionMask = attentionMask ?? [Int32](repeating: 1, count: count)
    }

    /// The tokenizer's padded batch.
    public init(_ encoding: BatchEncoding) {
        batch = encoding.batch
        sequenceLength = encoding.seqLen
        ids = encoding.ids
        typeIds = encoding.typeIds
        attentionMask = encoding.attentionMask
    }

    /// One unpadded encoding as a batch of one.
    public init(_ encoding: Encoding) {
        batch = 1
        sequenceLength = encoding.count
        ids = encoding.ids
        typeIds = encoding.typeIds
        attentionMask = encoding.attentionMask
    }
}
