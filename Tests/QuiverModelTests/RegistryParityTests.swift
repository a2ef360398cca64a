import Foundation
import QuiverStore
import QuiverTensor
import Testing
@testable import QuiverModel
import QuiverRuntime

/// The fixture folders go through the real import path — `push`, `fuse --from` — and come back out of
/// the registry with the reference library's outputs.
@Suite struct RegistryParityTests {
    /// A registry holding the fixture base model and every fixture case, built once.
    struct Loaded: Sendable {
        let home: String
        /// Case name → the reference that runs it.
        let references: [String: Reference]
    }

    static let loaded: Loaded = {
        let fixtures = AdapterFixtures.shared
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-parity-\(UUID().uuidString)").path
        let registry = try! Registry(home: home)
        try! registry.addBase(folder: fixtures.path("base"), name: "tiny")
        var references: [String: Reference] = [:]
        for testCase in fixtures.cases where ["bottleneck", "lora", "peft_lora", "fusion"].contains(testCase.kind) {
            let task = try! Reference(parsing: testCase.name.replacingOccurrences(of: "_", with: "-"))
            if testCase.kind == "fusion" {
                let members = try! testCase.member_dirs!.enumerated().map { index, dir in
                    let member = try Reference(parsing: "\(task.task)-member-\(index)")
                    try registry.push(member, folder: fixtures.path(dir))
                    return member
                }
                try! registry.importFusion(members: members, as: task, folder: fixtures.path(testCase.fusion_dir!))
            } else {
                try! registry.push(task, folder: fixtures.path(testCase.dir!))
            }
            references[testCase.name] = task
        }
        return Loaded(home: home, references: references)
    }()

    static var caseNames: [String] { AdapterFixtures.shared.cases.filter { ["bottleneck", "lora", "peft_lora", "fusion"].contains($0.kind) }.map(\.name) }

    @Test(arguments: caseNames)
    func pushedFolderRunsLikeTheReference(_ name: String) throws {
        let fixtures = AdapterFixtures.shared
        let testCase = fixtures.cases.first { $0.name == name }!
        let registry = try Registry(home: Self.loaded.home)
        let (base, tasks) = try registry.loadTasks([Self.loaded.references[name]!])
        let task = tasks[0]
        let states = try base.encoder.forward(fixtures.input, hooks: CompositionHooks(task.composition, batch: fixtures.input.batch))
        let expected = try fixtures.expected(testCase.expected)
        let hidden = compare(states.values, try expected.floats("hidden"), tolerance: fixtures.tolerance)
        #expect(hidden.firstDifference == nil, "\(name): \(hidden.firstDifference ?? "")")
        if testCase.has_head {
            let logits = compare(task.head!.logits(states).flatMap { $0 }, try expected.floats("logits"), tolerance: fixtures.tolerance)
            #expect(logits.firstDifference == nil, "\(name) logits: \(logits.firstDifference ?? "")")
        }
    }

    /// `infer`'s path from texts: tokenized here, several tasks at once, logits equal the reference's — tasks that
    /// branch at the start of layer 0 (double_seq_bn's attention adapter), and tasks that all branch at its output
    /// sublayer.
    @Test(arguments: [["seq_bn", "double_seq_bn", "fusion_dynamic", "fusion_dynamic_4"], ["seq_bn", "fusion_dynamic", "fusion_dynamic_4"]])
    func severalTasksFromTextsGiveTheReferenceLogits(names: [String]) throws {
        struct Inputs: Decodable { let texts: [String]; let text_pairs: [String?] }
        let fixtures = AdapterFixtures.shared
        let inputs = try JSONDecoder().decode(Inputs.self, from: Data(contentsOf: fixtures.root.appendingPathComponent("inputs.json")))
        let registry = try Registry(home: Self.loaded.home)
        let (base, tasks) = try registry.loadTasks(names.map { Self.loaded.references[$0]! })
        let results = try MultiTaskRunner(base: base, batchSize: 3).predict(tasks, texts: inputs.texts, pairs: inputs.text_pairs)
        #expect(results.count == names.count)
        let branch = tasks.compactMap(\.composition.branchPoint).min()
        #expect(branch?.stage == (names.contains("double_seq_bn") ? .layerStart : .outputSublayer))
        for (name, result) in zip(names, results) {
            let testCase = fixtures.cases.first { $0.name == name }!
            let expected = try fixtures.expected(testCase.expected).floats("logits")
            let logits = result.results.flatMap { $0.logits! }
            let comparison = compare(logits, expected, tolerance: fixtures.tolerance)
            #expect(comparison.firstDifference == nil, "\(name): \(comparison.firstDifference ?? "")")
            #expect(result.results.map(\.label) == (0..<inputs.texts.count).map { row in
                let values = Array(expected[(row * testCase.labels!.count)..<((row + 1) * testCase.labels!.count)])
                return testCase.labels![values.indices.max { values[$0] < values[$1] }!]
            })
        }
    }

    @Test func fusionsAreListedWithTheirMembers() throws {
        let registry = try Registry(home: Self.loaded.home)
        let fusion = try #require(try registry.list().first { $0.task == "fusion-dynamic-4" })
        #expect(fusion.kind == .fusion)
        #expect(fusion.architecture == .fusionDynamic)
        #expect(fusion.members == (0..<4).map { "fusion-dynamic-4-member-\($0):1" })
        // query and key (h×h + h each) and value (h×h) in 2 layers.
        #expect(fusion.parameters == 2 * (3 * 32 * 32 + 2 * 32))
    }
}
