import QuiverTensor

/// Token vectors of a batch: the output of the embeddings or of a layer, laid out like the input (padded or packed),
/// with the mask that says which rows are padding.
public struct HiddenStates: Sendable, Equatable {
    /// Where each item's rows are.
    public let layout: SequenceLayout
    public let hiddenSize: Int
    /// values is (layout.rows, hiddenSize), row-major; padded positions included.
    public var values: [Float]
    /// attentionMask is (layout.rows): 1 for tokens, 0 for padding.
    public let attentionMask: [Int32]

    public var batch: Int { layout.batch }
    /// The longest item's length: every item's when the batch is padded.
    public var sequenceLength: Int { layout.longest }

    /// Hidden states from flat values, one row per position of `layout`.
    ///
    /// - Throws: `EncoderError.shapeMismatch` when the arrays do not match the sizes.
    public init(layout: SequenceLayout, hiddenSize: Int, values: [Float], attentionMask: [Int32]) throws(EncoderError) {
        guard values.count == layout.rows * hiddenSize else {
            throw .shapeMismatch("hidden states hold \(values.count) values, not \(layout.rows) rows × \(hiddenSize)")
        }
        guard attentionMask.count == layout.rows else {
            throw .shapeMismatch("attention mask holds \(attentionMask.count) values for \(layout.rows) rows")
        }
        self.init(layout, hiddenSize: hiddenSize, values: values, attentionMask: attentionMask)
    }

    /// Arrays whose sizes are known to fit.
    private init(_ layout: SequenceLayout, hiddenSize: Int, values: [Float], attentionMask: [Int32]) {
        self.layout = layout
        self.hiddenSize = hiddenSize
        self.values = values
        self.attentionMask = attentionMask
    }

    /// Padded hidden states from flat values, (batch, sequenceLength, hiddenSize).
    ///
    /// - Throws: `EncoderError.shapeMismatch` when the arrays do not match the sizes.
    public init(
        batch: Int, sequenceLength: Int, hiddenSize: Int, values: [Float], attentionMask: [Int32]
    ) throws(EncoderError) {
        try self.init(
            layout: SequenceLayout(batch: batch, length: sequenceLength), hiddenSize: hiddenSize, values: values,
            attentionMask: attentionMask)
    }

    /// Zeros for `input`'s shape, to be filled by the encoder.
    init(zerosFor input: EncoderInput, hiddenSize: Int) {
        self.init(
            input.layout, hiddenSize: hiddenSize, values: [Float](repeating: 0, count: input.layout.rows * hiddenSize),
            attentionMask: input.attentionMask)
    }

    /// The vector of token `position` of item `item`.
    public func vector(item: Int, position: Int) -> ArraySlice<Float> {
        let start = (layout.starts[item] + position) * hiddenSize
        return values[start..<(start + hiddenSize)]
    }

    /// The items of `parts` one after the other, as one batch.
    public init(concatenating parts: [HiddenStates]) {
        precondition(Set(parts.map(\.hiddenSize)).count <= 1, "HiddenStates: parts of different widths")
        self.init(
            SequenceLayout(lengths: parts.flatMap(\.layout.lengths)), hiddenSize: parts.first?.hiddenSize ?? 0,
            values: Array(parts.map(\.values).joined()), attentionMask: Array(parts.map(\.attentionMask).joined()))
    }

    /// Items `items`, as a batch of their own.
    public func items(_ items: Range<Int>) -> HiddenStates {
        let rows = layout.starts[items.lowerBound]..<layout.starts[items.upperBound]
        return HiddenStates(
            SequenceLayout(lengths: items.map(layout.length(of:))), hiddenSize: hiddenSize,
            values: Array(values[(rows.lowerBound * hiddenSize)..<(rows.upperBound * hiddenSize)]),
            attentionMask: Array(attentionMask[rows]))
    }

    /// One vector per item, pooled as `pooling` says; each `hiddenSize` floats. An item without rows gives zeros.
    public func pooled(_ pooling: EmbeddingPooling) -> [[Float]] {
        let mask = pooling == .mean ? attentionMask.map { Float($0 != 0 ? 1 : 0) } : []
        return values.withUnsafeBufferPointer { hidden in
            (0..<batch).map { item in
                var output = [Float](repeating: 0, count: hiddenSize)
                let (start, length) = (layout.starts[item], layout.length(of: item))
                guard length > 0, let hidden = hidden.baseAddress else { return output }
                output.withUnsafeMutableBufferPointer { pooled in
                    switch pooling {
                    case .cls:
                        pooled.baseAddress!.update(from: hidden + start * hiddenSize, count: hiddenSize)
                    case .mean:
                        mask.withUnsafeBufferPointer { mask in
                            Pooling.mean(
                                hidden + start * hiddenSize, mask: mask.baseAddress! + start, batch: 1,
                                sequenceLength: length, dim: hiddenSize, into: pooled.baseAddress!)
                        }
                    }
                }
                return output
            }
        }
    }
}
