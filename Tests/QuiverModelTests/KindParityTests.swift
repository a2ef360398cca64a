import Foundation
import QuiverTensor
import Testing

@testable import QuiverModel

/// Every runnable kind fixture — IA³ of both libraries, prefix tuning (reparametrised and flat), PEFT sequence
/// classifiers, `Stack("ia3", "bn")` — gives the libraries' hidden states and logits, through the fast path and
/// through the Double reference pass, within 2e-5.
@Suite struct KindParityTests {
    static let caseNames = KindFixtures.shared.cases.map(\.name)

    @Test(arguments: caseNames)
    func fastPathMatchesTheLibraries(_ name: String) throws {
        let fixtures = KindFixtures.shared
        let testCase = fixtures.testCase(name)
        let task = try fixtures.task(testCase)
        let states = try fixtures.base.encoder.forward(
            fixtures.input, hooks: CompositionHooks(task.composition, batch: fixtures.input.batch))
        try Self.check(testCase, task, states, path: "fast path")
    }

    @Test(arguments: caseNames)
    func referencePassMatchesTheLibraries(_ name: String) throws {
        let fixtures = KindFixtures.shared
        let testCase = fixtures.testCase(name)
        let task = try fixtures.task(testCase)
        let input = fixtures.input
        let values = BertEncoder.Reference.forward(
            fixtures.base.encoder, input, hooks: CompositionHooks(task.composition, batch: input.batch))
        let states = try HiddenStates(
            batch: input.batch, sequenceLength: input.sequenceLength, hiddenSize: fixtures.base.config.hiddenSize,
            values: values,
            attentionMask: input.attentionMask)
        try Self.check(testCase, task, states, path: "reference")
    }

    /// The fixture's items packed without their padding give the libraries' token rows and logits.
    @Test(arguments: caseNames)
    func packedItemsMatchTheLibraries(_ name: String) throws {
        let fixtures = KindFixtures.shared
        let testCase = fixtures.testCase(name)
        let task = try fixtures.task(testCase)
        let packed = fixtures.input.unpadded
        let expected = try fixtures.expected(testCase)
        let width = fixtures.base.config.hiddenSize
        for threads in [1, 2] {
            let states = try fixtures.base.encoder.forward(
                packed, hooks: CompositionHooks(task.composition, batch: packed.batch), threads: threads)
            let hidden = compare(
                states.values, fixtures.input.tokenRows(try expected.floats("hidden"), width: width),
                tolerance: KindFixtures.tolerance)
            #expect(hidden.firstDifference == nil, "\(name) packed hidden: max error \(hidden.maxError); \(hidden.firstDifference ?? "")")
            if testCase.has_head, let head = task.head {
                let logits = compare(
                    head.logits(states).flatMap { $0 }, try expected.floats("logits"), tolerance: KindFixtures.tolerance)
                #expect(logits.firstDifference == nil, "\(name) packed logits: max error \(logits.maxError); \(logits.firstDifference ?? "")")
            }
        }
    }

    /// Hidden states and logits against the case's expected.safetensors; prints the largest errors.
    static func check(_ testCase: KindFixtures.Case, _ task: TaskModel, _ states: HiddenStates, path: String) throws {
        let expected = try KindFixtures.shared.expected(testCase)
        let hidden = compare(states.values, try expected.floats("hidden"), tolerance: KindFixtures.tolerance)
        #expect(
            hidden.firstDifference == nil,
            "\(testCase.name) \(path) hidden: max error \(hidden.maxError); \(hidden.firstDifference ?? "")")
        var line = "kind parity \(testCase.name) (\(path)): hidden max error \(hidden.maxError)"
        if testCase.has_head {
            let head = try #require(task.head, "\(testCase.name): no head loaded")
            #expect(head.labels.count == testCase.num_labels)
            if let labels = testCase.labels { #expect(head.labels == labels) }
            let logits = compare(
                head.logits(states).flatMap { $0 }, try expected.floats("logits"), tolerance: KindFixtures.tolerance)
            #expect(
                logits.firstDifference == nil,
                "\(testCase.name) \(path) logits: max error \(logits.maxError); \(logits.firstDifference ?? "")")
            line += ", logits max error \(logits.maxError)"
        } else {
            #expect(task.head == nil)
        }
        print(line)
    }

    /// A PEFT sequence classifier runs on the base's pooler, then the saved `classifier` (LoRA, rsLoRA and IA³ alike).
    @Test(arguments: ["peft_lora_seq_cls", "peft_rslora_ffn_seq_cls", "peft_ia3_seq_cls"])
    func peftClassifierRunsOnTheBasePooler(_ name: String) throws {
        let fixtures = KindFixtures.shared
        let task = try fixtures.task(fixtures.testCase(name))
        let head = try #require(task.head)
        let pooler = try #require(fixtures.base.encoder.weights.pooler)
        #expect(head.layers.count == 2 && head.layers[0].weight === pooler.weight)
        #expect(head.labels == ["LABEL_0", "LABEL_1", "LABEL_2"])
        // Without the base's pooler there is nothing to run the classifier on.
        #expect(throws: QuiverError.self) {
            try TaskModel.adapter(
                name: name, files: try fixtures.files(fixtures.testCase(name).dir!), source: name,
                base: fixtures.base.config, pooler: nil)
        }
    }

    /// The reparametrisation collapsed with the encoder's products equals its Double loops.
    @Test func collapsedPrefixMatchesItsDoubleTwin() throws {
        let fixtures = KindFixtures.shared
        let file = try SafetensorsFile(path: fixtures.path("cases/adapters_prefix/adapter.safetensors"))
        let config = fixtures.base.config
        let mlp = try PrefixReparametrisation(
            try PrefixTensors(file), file: file, length: 5, hidden: config.hiddenSize,
            width: config.layerCount * 2 * config.hiddenSize,
            nonLinearity: .tanh)
        let fast = mlp.collapsed()
        let slow = mlp.collapsedReference()
        #expect(fast.count == 5 * 2 * 2 * 32)
        let difference = zip(fast, slow).map { abs(Double($0) - $1) }.max()!
        #expect(difference < 1e-5, "max difference \(difference)")
    }

    /// A folder saved after the library's `eject_prefix_tuning` holds the collapsed prefix as the flat tensor while
    /// its config still says `"flat": false`: the tensors decide, and it runs like the reparametrised folder.
    @Test func ejectedPrefixRunsLikeTheReparametrisedOne() throws {
        let fixtures = KindFixtures.shared
        var files = try fixtures.files("cases/adapters_prefix")
        let file = try SafetensorsFile(bytes: files["adapter.safetensors"]!, source: "adapters_prefix")
        let config = fixtures.base.config
        let collapsed = try PrefixReparametrisation(
            try PrefixTensors(file), file: file, length: 5, hidden: config.hiddenSize,
            width: config.layerCount * 2 * config.hiddenSize,
            nonLinearity: .tanh
        ).collapsed()
        files["adapter.safetensors"] = Safetensors.serialize([
            "bert.prefix_tuning.prefix_tunings.adapters_prefix.self_prefix.control_trans": TensorData(
                shape: [collapsed.count], floats: collapsed)
        ])
        let task = try fixtures.adapter(files: files, source: "ejected")
        let states = try fixtures.base.encoder.forward(
            fixtures.input, hooks: CompositionHooks(task.composition, batch: fixtures.input.batch))
        try Self.check(fixtures.testCase("adapters_prefix"), task, states, path: "ejected")
    }

    /// Each item its own kind in one batch — prefix tuning, PEFT IA³, the IA³ + seq_bn stack, PEFT LoRA — gives each
    /// item what it gets alone.
    @Test func mixedBatchOfKindsEqualsSeparateRuns() throws {
        let fixtures = KindFixtures.shared
        let names = ["adapters_prefix_head", "peft_ia3_seq_cls", "adapters_stack_ia3_seq_bn", "peft_lora_seq_cls"]
        let tasks = try names.map { try fixtures.task(fixtures.testCase($0)) }
        let input = fixtures.input
        let encoder = fixtures.base.encoder
        let hooks = CompositionHooks(compositions: tasks.map(\.composition), itemComposition: Array(0..<input.batch))
        let stride = input.sequenceLength * encoder.hiddenSize
        for threads in [1, 2] {
            let mixed = try encoder.forward(input, hooks: hooks, threads: threads)
            for (item, task) in tasks.enumerated() {
                let alone = try encoder.forward(input, hooks: CompositionHooks(task.composition, batch: input.batch))
                let result = compare(
                    Array(mixed.values[(item * stride)..<((item + 1) * stride)]),
                    Array(alone.values[(item * stride)..<((item + 1) * stride)]),
                    tolerance: 1e-5)
                #expect(
                    result.firstDifference == nil,
                    "item \(item) (\(names[item])), \(threads) threads: \(result.firstDifference ?? "")")
            }
        }
    }

    /// `--tasks`: a prefix-tuned task beside a seq_bn task, from texts, in one run — each gets its separate run's
    /// logits and the libraries'.
    @Test func prefixTaskBesideSeqBnTaskEqualsSeparateRuns() throws {
        struct Inputs: Decodable {
            let texts: [String]
            let text_pairs: [String?]
        }
        let fixtures = KindFixtures.shared
        let adapters = AdapterFixtures.shared
        let inputs = try JSONDecoder().decode(
            Inputs.self, from: Data(contentsOf: adapters.root.appendingPathComponent("inputs.json")))
        let prefix = try fixtures.task(fixtures.testCase("adapters_prefix_head"))
        let seqBnCase = adapters.cases.first { $0.name == "seq_bn" }!
        let seqBn = try adapters.task(seqBnCase)
        for batchSize in [4, 3] {
            let runner = MultiTaskRunner(base: fixtures.base, batchSize: batchSize)
            let together = try runner.predict([prefix, seqBn], texts: inputs.texts, pairs: inputs.text_pairs)
            let prefixAlone = try runner.predict([prefix], texts: inputs.texts, pairs: inputs.text_pairs)[0]
            let seqBnAlone = try runner.predict([seqBn], texts: inputs.texts, pairs: inputs.text_pairs)[0]
            for (result, alone, expected) in [
                (
                    together[0], prefixAlone,
                    try fixtures.expected(fixtures.testCase("adapters_prefix_head")).floats("logits")
                ),
                (together[1], seqBnAlone, try adapters.expected(seqBnCase.expected).floats("logits")),
            ] {
                let logits = result.results.flatMap { $0.logits! }
                let separate = compare(logits, alone.results.flatMap { $0.logits! }, tolerance: 1e-5)
                #expect(
                    separate.firstDifference == nil,
                    "\(result.task), batch size \(batchSize) vs alone: \(separate.firstDifference ?? "")")
                let library = compare(logits, expected, tolerance: KindFixtures.tolerance)
                #expect(
                    library.firstDifference == nil,
                    "\(result.task), batch size \(batchSize) vs library: \(library.firstDifference ?? "")")
                #expect(result.results.map(\.label) == alone.results.map(\.label))
            }
        }
    }

    /// Two kinds may not act at one place: two IA³ adapters on the same projections are refused.
    @Test func kindStackRefusesTwoAdaptersAtOnePlace() throws {
        let fixtures = KindFixtures.shared
        let ia3 = try fixtures.task(fixtures.testCase("adapters_ia3")).composition
        let prefix = try fixtures.task(fixtures.testCase("adapters_prefix")).composition
        #expect(throws: QuiverError.self) { try KindStack([ia3, ia3]) }
        #expect(throws: QuiverError.self) { try KindStack([prefix, prefix]) }
        let stack = try KindStack([ia3, .base, prefix])
        #expect(stack.parts.count == 2)
    }
}
