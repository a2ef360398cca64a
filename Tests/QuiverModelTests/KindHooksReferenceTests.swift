import QuiverTensor
import Testing

@testable import QuiverModel

/// IA³ (input and output forms, on every projection) and prefix tuning through every path of the fast encoder —
/// slices from a queue, split products, heads shared between threads, right and left padding, an item of padding
/// only, a mixed batch — against `BertEncoder.Reference` with the kinds' Double twins.
@Suite struct KindHooksReferenceTests {
    static let tolerance: Float = 1e-4

    /// PEFT IA³ on all six projections of both layers: query, intermediate.dense and (by the suffix rule) both
    /// output.dense modules are feed-forward (input scaled), key and value output scaled.
    static func ia3(_ config: BertConfig, seed: UInt64) throws -> IA3Adapter {
        var random = SeededGenerator(seed: seed)
        let ia3Config = try IA3Config(
            peftJSON: try JSONParser.parse(
                #"{"peft_type": "IA3", "feedforward_modules": ["query", "intermediate.dense", "output.dense"]}"#),
            source: "test")
        let (h, i) = (config.hiddenSize, config.intermediateSize)
        var tensors: [String: TensorData] = [:]
        for layer in 0..<config.layerCount {
            let shapes: [(String, [Int])] = [
                ("attention.self.query", [1, h]), ("attention.self.key", [h, 1]), ("attention.self.value", [h, 1]),
                ("attention.output.dense", [1, h]), ("intermediate.dense", [1, h]), ("output.dense", [1, i]),
            ]
            for (module, shape) in shapes {
                let count = shape.reduce(1, *)
                tensors["base_model.model.bert.encoder.layer.\(layer).\(module).ia3_l"] = TensorData(
                    shape: shape, floats: random.normal(count: count, standardDeviation: 0.5, mean: 1))
            }
        }
        let file = try SafetensorsFile(bytes: Safetensors.serialize(tensors), source: "ia3")
        return try IA3Adapter(config: ia3Config, weights: file, base: config)
    }

    /// A reparametrised prefix of `length` positions on every layer but `leaveOut`.
    static func prefix(_ config: BertConfig, length: Int, leaveOut: [Int], seed: UInt64) throws -> PrefixTuningAdapter {
        var random = SeededGenerator(seed: seed)
        let prefixConfig = try PrefixTuningConfig(
            json: try JSONParser.parse(
                #"{"prefix_length": \#(length), "bottleneck_size": 16, "leave_out": \#(leaveOut)}"#), source: "test")
        let h = config.hiddenSize
        let width = (config.layerCount - leaveOut.count) * 2 * h
        let name = "roberta.prefix_tuning.prefix_tunings.p.self_prefix."
        func tensor(_ shape: [Int]) -> TensorData {
            TensorData(shape: shape, floats: random.normal(count: shape.reduce(1, *), standardDeviation: 0.5))
        }
        let tensors = [
            name + "wte.weight": tensor([length, h]), name + "control_trans.0.weight": tensor([16, h]),
            name + "control_trans.0.bias": tensor([16]), name + "control_trans.2.weight": tensor([width, 16]),
            name + "control_trans.2.bias": tensor([width]),
        ]
        let file = try SafetensorsFile(bytes: Safetensors.serialize(tensors), source: "prefix")
        return try PrefixTuningAdapter(config: prefixConfig, weights: file, base: config)
    }

    /// Batches that take every path of the forward plan; with padding at the left of one item.
    static let batches: [(label: String, lengths: [Int])] = [
        ("one item: split products, transposed", [40]),
        ("few tokens: one slice", [9, 3, 12, 7]),
        ("many items: slices from a queue", (0..<24).map { 4 + ($0 * 7) % 21 }),
        ("long item: heads split between threads", [64]),
    ]

    @Test(arguments: batches.indices, ElementwiseKernels.allCases)
    func fastPathMatchesReference(batch index: Int, kernels: ElementwiseKernels) throws {
        let encoder = try RandomEncoder.encoder(kernels: kernels)
        let config = encoder.config
        let input = try RandomEncoder.input(lengths: Self.batches[index].lengths, vocab: config.vocabSize)
        let ia3 = Composition.adapter(try Self.ia3(config, seed: 11))
        let prefix = Composition.adapter(try Self.prefix(config, length: 5, leaveOut: [], seed: 12))
        let shortPrefix = Composition.adapter(try Self.prefix(config, length: 2, leaveOut: [0], seed: 13))
        let both = Composition.kinds(try KindStack([ia3, shortPrefix]))
        let compositions = [ia3, prefix, .base, both, shortPrefix]
        let hooks = CompositionHooks(
            compositions: compositions, itemComposition: (0..<input.batch).map { $0 % compositions.count })
        let expected = BertEncoder.Reference.forward(encoder, input, hooks: hooks)
        for threads in [1, 2] {
            let actual = try encoder.forward(input, hooks: hooks, threads: threads).values
            let difference = floatDifference(actual, expected, tolerance: Self.tolerance, width: encoder.hiddenSize)
            #expect(difference == nil, "\(Self.batches[index].label), \(threads) threads: \(difference ?? "")")
        }
    }

    /// Left padding and an item of padding only: the prefix is seen by every query, masked keys by none.
    @Test func paddedItemsSeeThePrefix() throws {
        let encoder = try RandomEncoder.encoder()
        let config = encoder.config
        let input = try EncoderInput(
            batch: 3, sequenceLength: 6, ids: [0, 0, 5, 6, 7, 8, 9, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            attentionMask: [0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        let prefix = Composition.adapter(try Self.prefix(config, length: 3, leaveOut: [], seed: 14))
        let hooks = CompositionHooks(prefix, batch: 3)
        let actual = try encoder.forward(input, hooks: hooks).values
        #expect(!actual.contains { $0.isNaN })
        let difference = floatDifference(
            actual, BertEncoder.Reference.forward(encoder, input, hooks: hooks), tolerance: Self.tolerance,
            width: config.hiddenSize)
        #expect(difference == nil, "\(difference ?? "")")
    }

    /// Without hooks that add prefixes the attention's buffers keep their size, and a pass after a prefixed one
    /// reuses its larger buffers correctly.
    @Test func passesWithAndWithoutPrefixShareWorkspaces() throws {
        let encoder = try RandomEncoder.encoder()
        let input = try RandomEncoder.input(lengths: [9, 3, 12], vocab: encoder.config.vocabSize)
        let plain = try encoder.forward(input).values
        let prefix = Composition.adapter(try Self.prefix(encoder.config, length: 4, leaveOut: [], seed: 15))
        let prefixed = try encoder.forward(input, hooks: CompositionHooks(prefix, batch: input.batch)).values
        #expect(prefixed != plain)
        let again = try encoder.forward(input).values
        #expect(again == plain)
    }
}
