import Foundation
import QuiverTensor
import Testing

@testable import QuiverModel

/// Packed batches — each item only its own tokens, one after the other — give every item what the padded batch gives
/// its tokens, through every path: the plain encoder, the Double reference, hooks, mixed passes of several requests.
@Suite struct PackedBatchTests {
    static let lengths = [1, 9, 33, 2, 64, 17, 5, 40, 3, 12, 64, 7, 28, 11, 50, 6]

    @Test(arguments: [1, 2])
    func packedItemsEqualTheirPaddedTwins(threads: Int) throws {
        let encoder = try RandomEncoder.encoder()
        let padded = try RandomEncoder.input(lengths: Self.lengths, vocab: encoder.config.vocabSize)
        let packed = padded.unpadded
        #expect(packed.layout.rows == Self.lengths.reduce(0, +) && packed.layout.longest == 64)
        let fromPadded = try encoder.forward(padded, threads: threads)
        let fromPacked = try encoder.forward(packed, threads: threads)
        let result = compare(fromPacked.values, padded.tokenRows(fromPadded.values, width: encoder.hiddenSize), tolerance: 1e-5)
        #expect(result.firstDifference == nil, "\(result.firstDifference ?? "")")
        for pooling in EmbeddingPooling.allCases {
            let pooled = compare(
                fromPacked.pooled(pooling).flatMap { $0 }, fromPadded.pooled(pooling).flatMap { $0 }, tolerance: 1e-5)
            #expect(pooled.firstDifference == nil, "\(pooling): \(pooled.firstDifference ?? "")")
        }
    }

    @Test func packedForwardMatchesTheReference() throws {
        let encoder = try RandomEncoder.encoder()
        let packed = try RandomEncoder.input(lengths: [3, 12, 1, 30, 8], vocab: encoder.config.vocabSize).unpadded
        let fast = try encoder.forward(packed, threads: 2)
        let slow = BertEncoder.Reference.forward(encoder, packed)
        let result = compare(fast.values, slow, tolerance: 1e-4)
        #expect(result.firstDifference == nil, "\(result.firstDifference ?? "")")
    }

    /// An item without tokens (a text a tokenizer without special tokens encodes to nothing) takes no rows and pools
    /// to zeros; its neighbours are untouched.
    @Test func itemsWithoutTokensPoolToZeros() throws {
        let encoder = try RandomEncoder.encoder()
        let input = try RandomEncoder.input(lengths: [4, 0, 6], vocab: encoder.config.vocabSize).unpadded
        #expect(input.layout.lengths == [4, 0, 6])
        let states = try encoder.forward(input, threads: 2)
        #expect(states.pooled(.mean)[1] == [Float](repeating: 0, count: encoder.hiddenSize))
        #expect(states.pooled(.cls)[1] == [Float](repeating: 0, count: encoder.hiddenSize))
        // The same ids without the empty item (ids are drawn position by position, so they are the same).
        let without = try encoder.forward(RandomEncoder.input(lengths: [4, 6], vocab: encoder.config.vocabSize).unpadded, threads: 2)
        #expect(compare(states.values, without.values, tolerance: 1e-6).firstDifference == nil)
        let empty = try encoder.forward(try EncoderInput(layout: SequenceLayout(lengths: [0, 0]), ids: []))
        #expect(empty.values.isEmpty && empty.pooled(.mean) == [[Float](repeating: 0, count: encoder.hiddenSize), [Float](repeating: 0, count: encoder.hiddenSize)])
    }

    @Test func slicesOfAPackedBatchCountRows() {
        let layout = SequenceLayout(lengths: [100, 300, 700, 20, 20, 20, 400, 100, 90])
        let plan = ForwardPlan(layout: layout, threads: 2)
        #expect(plan.slices.flatMap { Array($0) } == Array(0..<9), "every item once, in order")
        for slice in plan.slices where slice.count > 1 {
            #expect(layout.starts[slice.upperBound] - layout.starts[slice.lowerBound] <= ForwardPlan.targetSliceRows)
        }
        #expect(plan.slices.contains(2..<3), "an item longer than a slice's target is a slice of its own")
        #expect(plan.largestSliceRows == 700 && plan.longestItem == 700)
        let few = ForwardPlan(layout: SequenceLayout(lengths: [10, 90, 20]), threads: 2)
        #expect(few.slices == [0..<3] && few.threading == .splitOutput(threads: 2) && few.headThreads == 2)
    }

    @Test func batchSlicesFindItemsAndRows() {
        let slice = BatchSlice(items: 1..<4, layout: SequenceLayout(lengths: [5, 3, 0, 4, 2]))
        #expect(slice.firstRow == 5 && slice.rows == 7 && slice.batch == 5)
        #expect((0..<7).map(slice.item(ofRow:)) == [1, 1, 1, 3, 3, 3, 3])
        #expect(slice.rows(ofItem: 1) == 0..<3 && slice.rows(ofItem: 2) == 3..<3 && slice.rows(ofItem: 3) == 3..<7)
    }

    /// One pass over several requests' texts, each with its own tasks (an adapter, a fusion, a LoRA, two tasks at
    /// once), gives every request what it gets alone.
    @Test func onePassOverSeveralGroupsEqualsSeparateRuns() throws {
        let fixtures = AdapterFixtures.shared
        func task(_ name: String) throws -> TaskModel { try fixtures.task(fixtures.cases.first { $0.name == name }!) }
        let (bottleneck, fusion, lora) = (try task("seq_bn"), try task("fusion_dynamic"), try task("lora_qkv"))
        let runner = MultiTaskRunner(base: fixtures.base)
        let texts = [
            ["a short one", "and a much longer text that the tokenizer cuts into many more pieces than the first"],
            ["one text alone"], ["x", "two words", "three more words", "four words in all"],
        ]
        let taskLists = [[bottleneck], [fusion, lora], [lora]]
        let groups = zip(texts, taskLists).map { texts, tasks in
            PassGroup(encodings: texts.map { fixtures.base.tokenizer.encode($0, pair: nil, maxLength: 32) }, tasks: tasks)
        }
        let together = try runner.run(groups)
        for (index, group) in groups.enumerated() {
            let alone = try runner.run([group])[0]
            for (taskIndex, states) in together[index].enumerated() {
                #expect(states.layout == alone[taskIndex].layout)
                let result = compare(states.values, alone[taskIndex].values, tolerance: 1e-5)
                #expect(result.firstDifference == nil, "group \(index), task \(taskIndex): \(result.firstDifference ?? "")")
            }
        }
    }

    /// Where each kind first changes the encoder: a bottleneck adapter or fusion at `output_adapter` alone lets the
    /// copies of a pass share its first layer up to that sublayer; anything earlier in the layer branches at its start.
    @Test func branchPointsFollowWhereEachCompositionActsFirst() throws {
        let fixtures = AdapterFixtures.shared
        func branch(_ name: String) throws -> BranchPoint? {
            try fixtures.task(fixtures.cases.first { $0.name == name }!).composition.branchPoint
        }
        let expected: [(String, BranchPoint)] = [
            ("seq_bn", BranchPoint(layer: 0, stage: .outputSublayer)),
            ("bn_leave_out", BranchPoint(layer: 1, stage: .outputSublayer)),
            ("fusion_dynamic", BranchPoint(layer: 0, stage: .outputSublayer)),
            ("stack", BranchPoint(layer: 0, stage: .outputSublayer)),
            ("double_seq_bn", BranchPoint(layer: 0, stage: .layerStart)),
            ("bn_mh_adapter_only", BranchPoint(layer: 0, stage: .layerStart)),
            ("lora_ffn", BranchPoint(layer: 0, stage: .layerStart)),
            ("lora_default", BranchPoint(layer: 0, stage: .layerStart)),
        ]
        for (name, point) in expected { #expect(try branch(name) == point, "\(name)") }
        #expect(Composition.base.branchPoint == nil)
    }

    /// Tasks that all start at an output sublayer (and one a layer higher) run their first layer once up to it, then
    /// branch: each gets what it gets alone, and what the library computes.
    @Test func tasksBranchingAtAnOutputSublayerEqualSeparateRuns() throws {
        let fixtures = AdapterFixtures.shared
        let names = ["seq_bn", "fusion_dynamic", "stack", "bn_leave_out"]
        let tasks = try names.map { name in try fixtures.task(fixtures.cases.first { $0.name == name }!) }
        #expect(tasks.compactMap(\.composition.branchPoint).min() == BranchPoint(layer: 0, stage: .outputSublayer))
        let runner = MultiTaskRunner(base: fixtures.base)
        let texts = ["a short one", "and a much longer text that the tokenizer cuts into many more pieces", "x"]
        let encodings = texts.map { fixtures.base.tokenizer.encode($0, pair: nil, maxLength: 32) }
        let together = try runner.run([PassGroup(encodings: encodings, tasks: tasks)])[0]
        for (index, task) in tasks.enumerated() {
            let alone = try runner.run([PassGroup(encodings: encodings, tasks: [task])])[0][0]
            #expect(together[index].layout == alone.layout)
            let result = compare(together[index].values, alone.values, tolerance: 1e-5)
            #expect(result.firstDifference == nil, "\(names[index]): \(result.firstDifference ?? "")")
        }
        // Texts without tokens (a tokenizer that adds no special tokens, an empty text) branch too.
        let empty = try runner.run([PassGroup(encodings: [Encoding(ids: [], typeIds: [], attentionMask: [])], tasks: tasks)])[0]
        #expect(empty.count == tasks.count && empty.allSatisfy { $0.batch == 1 && $0.values.isEmpty })
    }
}
