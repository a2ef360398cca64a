import Testing

@testable import QuiverModel

/// The fast path (slices on two threads, transposed products for short slices, skipped padding keys, oneDNN or Swift
/// element-wise kernels) against `BertEncoder.Reference`, plain loops in Double over every key.
@Suite struct EncoderReferenceTests {
    static let tolerance: Float = 1e-4

    /// Batches that take every path of the forward plan.
    static let batches: [(label: String, lengths: [Int])] = [
        ("one item: split products, transposed", [40]),
        ("few tokens: one slice", [9, 3, 12]),
        ("many items: slices from a queue", (0..<24).map { 4 + ($0 * 7) % 21 }),
        ("long item: heads split between threads", [64]),
    ]

    @Test(arguments: batches.indices, ElementwiseKernels.allCases)
    func fastPathMatchesReference(batch index: Int, kernels: ElementwiseKernels) throws {
        let encoder = try RandomEncoder.encoder(kernels: kernels)
        let input = try RandomEncoder.input(lengths: Self.batches[index].lengths, vocab: encoder.config.vocabSize)
        let expected = BertEncoder.Reference.forward(encoder, input)
        for threads in [1, 2] {
            let actual = try encoder.forward(input, threads: threads).values
            let difference = floatDifference(actual, expected, tolerance: Self.tolerance, width: encoder.hiddenSize)
            #expect(difference == nil, "\(Self.batches[index].label), \(threads) threads: \(difference ?? "")")
        }
    }

    @Test(arguments: ["gelu", "gelu_new", "relu", "silu"])
    func everyActivationMatchesReference(activation: String) throws {
        var shape = RandomEncoder.Shape()
        shape.activation = activation
        shape.epsilon = 1e-5
        let encoder = try RandomEncoder.encoder(shape)
        let input = try RandomEncoder.input(lengths: [7, 20, 13], vocab: shape.vocab)
        let difference = floatDifference(
            try encoder.forward(input).values, BertEncoder.Reference.forward(encoder, input),
            tolerance: Self.tolerance, width: shape.hidden)
        #expect(difference == nil, "\(activation): \(difference ?? "")")
    }

    /// Padding on the left: keys masked before the last token go through the masked softmax.
    @Test func leftPaddingMatchesReference() throws {
        let encoder = try RandomEncoder.encoder()
        let right = try RandomEncoder.input(lengths: [10, 6], vocab: encoder.config.vocabSize)
        var ids = right.ids
        var types = right.typeIds
        var mask = right.attentionMask
        // Item 1: move its 6 tokens to the end.
        for position in 0..<10 {
            let source = position - 4
            ids[10 + position] = source >= 0 ? right.ids[10 + source] : 0
            types[10 + position] = source >= 0 ? right.typeIds[10 + source] : 0
            mask[10 + position] = source >= 0 ? 1 : 0
        }
        let input = try EncoderInput(batch: 2, sequenceLength: 10, ids: ids, typeIds: types, attentionMask: mask)
        let difference = floatDifference(
            try encoder.forward(input).values, BertEncoder.Reference.forward(encoder, input),
            tolerance: Self.tolerance, width: encoder.hiddenSize)
        #expect(difference == nil, "\(difference ?? "")")
    }

    /// An item of padding only: every key masked, uniform attention as in transformers, no NaN.
    @Test func allPaddingItemMatchesReference() throws {
        let encoder = try RandomEncoder.encoder()
        let input = try EncoderInput(
            batch: 2, sequenceLength: 4, ids: [5, 6, 7, 8, 0, 0, 0, 0], attentionMask: [1, 1, 1, 1, 0, 0, 0, 0])
        let actual = try encoder.forward(input).values
        #expect(!actual.contains { $0.isNaN })
        let difference = floatDifference(
            actual, BertEncoder.Reference.forward(encoder, input), tolerance: Self.tolerance,
            width: encoder.hiddenSize)
        #expect(difference == nil, "\(difference ?? "")")
    }

    /// The same batch split into slices differently gives the same vectors (to rounding).
    @Test func resultsDoNotDependOnTheThreads() throws {
        let encoder = try RandomEncoder.encoder()
        let input = try RandomEncoder.input(lengths: (0..<20).map { 10 + $0 % 9 }, vocab: encoder.config.vocabSize)
        let one = try encoder.forward(input, threads: 1).values
        for threads in [2, 3, 5] {
            #expect(maxAbsDifference(one, try encoder.forward(input, threads: threads).values) <= 1e-5)
        }
    }
}
