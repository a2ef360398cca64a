import Foundation
import QuiverRuntime
import QuiverStore
import QuiverTensor
import Testing
@testable import QuiverModel

/// The kind fixtures through the real path of `quiver push` and `quiver infer`: checked against the base at push,
/// stored, listed as runnable, loaded back from the registry's blobs and run at parity.
@Suite struct KindRegistryTests {
    static let caseNames = KindFixtures.shared.cases.filter { $0.dir != nil }.map(\.name)

    static let home: String = {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-kinds-\(UUID().uuidString)").path
        let registry = try! Registry(home: home)
        try! registry.addBase(folder: AdapterFixtures.shared.path("base"), name: "tiny")
        for name in caseNames {
            let testCase = KindFixtures.shared.testCase(name)
            try! registry.push(Reference(parsing: name.replacingOccurrences(of: "_", with: "-")), folder: KindFixtures.shared.path(testCase.dir!))
        }
        return home
    }()

    @Test(arguments: caseNames)
    func pushedFolderRunsLikeTheLibraries(_ name: String) throws {
        let fixtures = KindFixtures.shared
        let registry = try Registry(home: Self.home)
        let reference = try Reference(parsing: name.replacingOccurrences(of: "_", with: "-"))
        let row = try #require(try registry.list().first { $0.task == reference.task })
        #expect(row.runnable, "\(row.engineNote ?? "")")
        let (base, tasks) = try registry.loadTasks([reference])
        let states = try base.encoder.forward(fixtures.input, hooks: CompositionHooks(tasks[0].composition, batch: fixtures.input.batch))
        try KindParityTests.check(fixtures.testCase(name), tasks[0], states, path: "registry")
    }

    /// A prefix that does not fit the base is refused at push, naming the tensor; the registry is unchanged.
    @Test func prefixOfTheWrongWidthIsRefusedAtPush() throws {
        let registry = try Registry(home: Self.home)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-prefix-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var files = try KindFixtures.shared.files("cases/adapters_prefix_flat")
        let name = "bert.prefix_tuning.prefix_tunings.adapters_prefix_flat.self_prefix.control_trans"
        files["adapter.safetensors"] = try editedSafetensors(files["adapter.safetensors"]!) { tensors in
            tensors = tensors.filter { !$0.key.contains(".pool.") }
            tensors[name] = TensorData(shape: [320], floats: Array(repeating: 0.1, count: 320))  // one layer's worth
        }
        for (file, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: folder + "/" + file)) }
        let before = try registry.list().count
        do {
            try registry.push(Reference(parsing: "bad-prefix"), folder: folder)
            Issue.record("a prefix for one layer was pushed on a two-layer base")
        } catch let error as QuiverError {
            #expect(error.kind == .incompatible)
            #expect(error.message.contains("'\(name)'") && error.message.contains("[640]") && !error.message.contains("\n"), "\(error.message)")
        }
        #expect(try registry.list().count == before)
    }
}
