import QuiverTensor

/// How a sequence of token vectors becomes one vector per item.
public enum EmbeddingPooling: String, Sendable, CaseIterable {
    /// The first token's vector ([CLS]).
    case cls
    /// The mean over the tokens the attention mask keeps (sentence-transformers' mean pooling).
    case mean
}

/// Token vectors of a batch: the output of the embeddings or of a layer, with the mask that says which rows are
/// padding.
public struct HiddenStates: Sendable, Equatable {
    public let batch: Int
    public let sequenceLength: Int
    public let hiddenSize: Int
    /// values is (batch, sequenceLength, hiddenSize), row-major; padded positions included.
    public var values: [Float]
    /// attentionMask is (batch, sequenceLength): 1 for tokens, 0 for padding.
    public let attentionMask: [Int32]

    /// Hidden states from flat values.
    ///
    /// - Throws: `EncoderError.shapeMismatch` when the arrays do not match the sizes.
    public init(
        batch: Int, sequenceLength: Int, hiddenSize: Int, values: [Float], attentionMask: [Int32]
    ) throws(EncoderError) {
        guard values.count == batch * sequenceLength * hiddenSize else {
            throw .shapeMismatch(
                "hidden states hold \(values.count) values, not \(batch) × \(sequenceLength) × \(hiddenSize)")
        }
        guard attentionMask.count == batch * sequenceLength else {
            throw .shapeMismatch(
                "attention mask holds \(attentionMask.count) values, not \(batch) × \(sequenceLength)")
        }
        self.batch = batch
        self.sequenceLength = sequenceLength
        self.hiddenSize = hiddenSize
        self.values = values
        self.attentionMask = attentionMask
    }

    /// Zeros for `input`'s shape, to be filled by the encoder.
    init(zerosFor input: EncoderInput, hiddenSize: Int) {
        batch = input.batch
        sequenceLength = input.sequenceLength
        self.hiddenSize = hiddenSize
        values = [Float](repeating: 0, count: input.batch * input.sequenceLength * hiddenSize)
        attentionMask = input.attentionMask
    }

    /// The vector of token `position` of item `item`.
    public func vector(item: Int, position: Int) -> ArraySlice<Float> {
        let start = (item * sequenceLength + position) * hiddenSize
        return values[start..<(start + hiddenSize)]
    }

    /// One vector per item, pooled as `pooling` says; each `hiddenSize` floats.
    public func pooled(_ pooling: EmbeddingPooling) -> [[Float]] {
        var output = [Float](repeating: 0, count: batch * hiddenSize)
        values.withUnsafeBufferPointer { hidden in
            output.withUnsafeMutableBufferPointer { pooled in
                guard let hidden = hidden.baseAddress, let pooled = pooled.baseAddress else { return }
                switch pooling {
                case .cls:
                    Pooling.first(hidden, batch: batch, sequenceLength: sequenceLength, dim: hiddenSize, into: pooled)
                case .mean:
                    let mask = attentionMask.map { Float($0 != 0 ? 1 : 0) }
                    Pooling.mean(
                        hidden, mask: mask, batch: batch, sequenceLength: sequenceLength, dim: hiddenSize,
                        into: pooled)
                }
            }
        }
        return (0..<batch).map { Array(output[($0 * hiddenSize)..<(($0 + 1) * hiddenSize)]) }
    }
}
