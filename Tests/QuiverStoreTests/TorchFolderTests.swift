import Foundation
import Testing
import QuiverModel
@testable import QuiverStore

/// PyTorch `.bin` folders through the store: the same version as their safetensors twins, and a hostile or broken
/// `.bin` refused in one line with nothing stored.
@Suite struct TorchFolderTests {
    static let torch = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("torch").path
    /// The reader's hostile files (Tests/QuiverTensorTests/Fixtures/torch/hostile, made by make_torch_fixtures.py).
    static let hostile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("QuiverTensorTests/Fixtures/torch/hostile").path

    @Test func binBaseAndAdaptersAreTheirSafetensorsTwins() throws {
        let workspace = try Workspace.empty()
        let bin = try workspace.registry.addBase(folder: Self.torch + "/bert-bin", name: "from-bin").base
        let shards = try workspace.registry.addBase(folder: Self.torch + "/bert-safetensors-sharded", name: "from-shards").base
        #expect(bin.parameters == shards.parameters && bin.modelType == "bert")
        let fromBin = try workspace.registry.push(Reference(parsing: "a"), folder: Self.torch + "/adapters-bin", baseName: "from-bin").artifact
        let fromSafetensors = try workspace.registry.push(Reference(parsing: "b"), folder: Self.torch + "/adapters-safetensors", baseName: "from-bin").artifact
        #expect(fromBin.parameters == fromSafetensors.parameters && fromBin.headParameters == fromSafetensors.headParameters)
        #expect(try workspace.registry.files(of: fromBin)["adapter.safetensors"] != nil)
        let peft = try workspace.registry.push(Reference(parsing: "p"), folder: Self.torch + "/peft-bin", baseName: "from-bin").artifact
        let peftTwin = try workspace.registry.push(Reference(parsing: "q"), folder: Self.torch + "/peft-safetensors", baseName: "from-bin").artifact
        #expect(peft.parameters == peftTwin.parameters && peft.parameters > 0)
    }

    @Test(arguments: [
        ("global_os_system.bin", "refuses global"),
        ("stack_global_eval.bin", "refuses global"),
        ("truncated.bin", "adapter_model.bin"),
        ("size_overflow.bin", "adapter_model.bin"),
        ("broadcast_bomb.bin", "adapter_model.bin"),
    ])
    func hostileBinIsRefused(_ file: String, _ mention: String) throws {
        let workspace = try Workspace.withBase()
        let folder = try workspace.copy("paraphrase-peft", to: "hostile")
        try FileManager.default.removeItem(atPath: folder + "/adapter_model.safetensors")
        try FileManager.default.copyItem(atPath: Self.hostile + "/" + file, toPath: folder + "/adapter_model.bin")
        let before = try workspace.snapshot()
        let error = try #require(throws: QuiverError.self) { try workspace.registry.push(Reference(parsing: "h"), folder: folder) }
        #expect(error.kind == .invalidInput)
        #expect(error.message.contains(mention), "\(error.message)")
        #expect(!error.message.contains("\n"))
        #expect(try workspace.snapshot() == before)
    }

    @Test func hostileBaseBinIsRefused() throws {
        let workspace = try Workspace.empty()
        let folder = workspace.root + "/hostile-base"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.torch + "/bert-bin/config.json", toPath: folder + "/config.json")
        try FileManager.default.copyItem(atPath: Self.hostile + "/global_os_system.bin", toPath: folder + "/pytorch_model.bin")
        let before = try workspace.snapshot()
        let error = try #require(throws: QuiverError.self) { try workspace.registry.addBase(folder: folder, name: "h") }
        #expect(error.message.contains("pytorch_model.bin") && error.message.contains("refuses global"), "\(error.message)")
        #expect(try workspace.snapshot() == before)
    }
}
