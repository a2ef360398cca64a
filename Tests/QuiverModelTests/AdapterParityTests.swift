import Foundation
import QuiverStore
import QuiverTensor
import Testing
@testable import QuiverModel

/// Every fixture case (bottleneck flags, LoRA, PEFT LoRA, fusions, Stack, Average, heads) gives the
/// `adapters` library's hidden states and logits.
@Suite struct AdapterParityTests {
    static let caseNames = AdapterFixtures.shared.cases.map(\.name)

    @Test(arguments: caseNames)
    func matchesTheReferenceLibrary(_ name: String) throws {
        let fixtures = AdapterFixtures.shared
        let testCase = fixtures.cases.first { $0.name == name }!
        let task = try fixtures.task(testCase)
        let states = try fixtures.base.encoder.forward(fixtures.input, hooks: CompositionHooks(task.composition, batch: fixtures.input.batch))
        let expected = try fixtures.expected(testCase.expected)
        let hidden = compare(states.values, try expected.floats("hidden"), tolerance: fixtures.tolerance)
        #expect(hidden.firstDifference == nil, "\(name) hidden: max error \(hidden.maxError); \(hidden.firstDifference ?? "")")
        if testCase.has_head {
            let head = try #require(task.head, "\(name): no head loaded")
            #expect(head.labels == testCase.labels!)
            let logits = compare(head.logits(states).flatMap { $0 }, try expected.floats("logits"), tolerance: fixtures.tolerance)
            #expect(logits.firstDifference == nil, "\(name) logits: max error \(logits.maxError); \(logits.firstDifference ?? "")")
        } else {
            #expect(task.head == nil)
        }
    }

    /// The same items packed without their padding give the library's token rows and logits.
    @Test(arguments: caseNames)
    func packedItemsMatchTheReferenceLibrary(_ name: String) throws {
        let fixtures = AdapterFixtures.shared
        let testCase = fixtures.cases.first { $0.name == name }!
        let task = try fixtures.task(testCase)
        let packed = fixtures.input.unpadded
        #expect(packed.layout.rows < fixtures.input.layout.rows, "the fixture's batch has padding")
        let expected = try fixtures.expected(testCase.expected)
        let width = fixtures.base.config.hiddenSize
        for threads in [1, 2] {
            let states = try fixtures.base.encoder.forward(
                packed, hooks: CompositionHooks(task.composition, batch: packed.batch), threads: threads)
            let hidden = compare(
                states.values, fixtures.input.tokenRows(try expected.floats("hidden"), width: width), tolerance: fixtures.tolerance)
            #expect(hidden.firstDifference == nil, "\(name) packed hidden: max error \(hidden.maxError); \(hidden.firstDifference ?? "")")
            if let head = task.head {
                let logits = compare(head.logits(states).flatMap { $0 }, try expected.floats("logits"), tolerance: fixtures.tolerance)
                #expect(logits.firstDifference == nil, "\(name) packed logits: max error \(logits.maxError); \(logits.firstDifference ?? "")")
            }
        }
    }

    @Test func baseModelMatchesWithoutAdapters() throws {
        let fixtures = AdapterFixtures.shared
        let states = try fixtures.base.encoder.forward(fixtures.input)
        let result = compare(states.values, try fixtures.expected("base_expected.safetensors").floats("hidden"), tolerance: fixtures.tolerance)
        #expect(result.firstDifference == nil, "max error \(result.maxError); \(result.firstDifference ?? "")")
    }

    /// A mixed batch — each item its own composition — gives each item what it gets alone.
    @Test func mixedBatchEqualsSeparateRuns() throws {
        let fixtures = AdapterFixtures.shared
        let names = ["seq_bn", "lora_qkv", "fusion_dynamic", "double_seq_bn"]
        let tasks = try names.map { name in try fixtures.task(fixtures.cases.first { $0.name == name }!) }
        let mixed = try fixtures.base.encoder.forward(
            fixtures.input, hooks: CompositionHooks(compositions: tasks.map(\.composition), itemComposition: Array(0..<fixtures.input.batch)))
        let stride = fixtures.input.sequenceLength * fixtures.base.config.hiddenSize
        for (item, task) in tasks.enumerated() {
            let alone = try fixtures.base.encoder.forward(fixtures.input, hooks: CompositionHooks(task.composition, batch: fixtures.input.batch))
            let result = compare(Array(mixed.values[(item * stride)..<((item + 1) * stride)]), Array(alone.values[(item * stride)..<((item + 1) * stride)]), tolerance: 1e-5)
            #expect(result.firstDifference == nil, "item \(item) (\(names[item])): \(result.firstDifference ?? "")")
        }
    }
}

@Suite struct LoRAMergeTests {
    /// Merging LoRA into the base weights gives what the hooks give, and what the library gives.
    @Test(arguments: ["lora_default", "lora_qkv", "lora_ffn", "peft_lora"])
    func mergedWeightsMatchHooks(_ name: String) throws {
        let fixtures = AdapterFixtures.shared
        let testCase = fixtures.cases.first { $0.name == name }!
        guard case .adapter(let adapter as LoRAAdapter) = try fixtures.task(testCase).composition else {
            Issue.record("\(name) is not LoRA")
            return
        }
        let merged = try fixtures.base.encoder.merging(adapter)
        let states = try merged.forward(fixtures.input)
        let result = compare(states.values, try fixtures.expected(testCase.expected).floats("hidden"), tolerance: fixtures.tolerance)
        #expect(result.firstDifference == nil, "\(name): \(result.firstDifference ?? "")")
        // The original encoder is untouched.
        let plain = try fixtures.base.encoder.forward(fixtures.input)
        #expect(compare(plain.values, try fixtures.expected("base_expected.safetensors").floats("hidden"), tolerance: fixtures.tolerance).firstDifference == nil)
    }
}
