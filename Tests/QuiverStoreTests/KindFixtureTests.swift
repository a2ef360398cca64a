import Foundation
import Testing
import QuiverModel
import QuiverTensor
@testable import QuiverStore

/// Every base layout and every adapter kind the reference libraries write (Fixtures/kinds, made by
/// scripts/fixtures/make_kind_fixtures.py): stored with the exact counts the libraries give, checked against their
/// base, pulled back out with the same tensors; the negatives refused naming the first file or tensor at fault.
@Suite(.serialized) struct KindFixtureTests {
    static let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("kinds").path

    struct Expected: Decodable {
        var model_type: String?
        var num_layers: Int?
        var hidden_size: Int?
        var dtype: String?
        var parameters: Int?
        var head_parameters: Int?
        var base: String?
        var library: String?
        var kind: String?
        var outcome: String?
    }

    static func expected(_ folder: String) throws -> Expected {
        try JSONDecoder().decode(Expected.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/expected.json")))
    }

    static func folders(_ group: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + group)) ?? []).sorted()
    }

    /// A registry holding every fixture base under its folder name.
    static func registryWithBases() throws -> Workspace {
        let workspace = try Workspace.empty()
        for name in folders("bases") { try workspace.registry.addBase(folder: root + "/bases/" + name, name: name) }
        return workspace
    }

    @Test(arguments: folders("bases"))
    func baseIsStoredWithItsCounts(_ name: String) throws {
        let folder = Self.root + "/bases/" + name
        let expected = try Self.expected(folder)
        let workspace = try Workspace.empty()
        let base = try workspace.registry.addBase(folder: folder, name: name).base
        #expect(base.modelType == expected.model_type)
        #expect(base.parameters == expected.parameters, "\(name)")
        #expect(base.layerCount == expected.num_layers && base.hiddenSize == expected.hidden_size)
        #expect(base.dtype == expected.dtype)
        // The encoder families run from one weights file, with their tokenizers (BPE, Unigram, WordPiece).
        let runs = ["bert", "roberta", "xlm-roberta", "distilbert"].contains(base.modelType) && !name.hasSuffix("sharded")
        #expect(base.runnable == runs, "\(name): \(base.engineNote ?? "runs")")
        // Pulled back out: the same tensors, names, dtypes, shapes and bytes as the folder's weights.
        let out = workspace.root + "/out-" + name
        _ = try workspace.registry.exportBase(named: name, to: out)
        let original = try ModelFolder(path: folder), exported = try ModelFolder(path: out)
        #expect(original.tensors.keys.sorted() == exported.tensors.keys.sorted())
        for (file, copy) in zip(original.files, exported.files) where file.role == .weights {
            #expect(file.name == copy.name)
            #expect(file.safetensors!.canonicalBytes() == copy.safetensors!.canonicalBytes(), "\(name)/\(file.name)")
        }
    }

    @Test(arguments: folders("adapters"))
    func adapterIsStoredWithItsCounts(_ name: String) throws {
        let folder = Self.root + "/adapters/" + name
        let expected = try Self.expected(folder)
        let workspace = try Workspace.empty()
        try workspace.registry.addBase(folder: Self.root + "/bases/" + expected.base!, name: expected.base!)
        let result = try workspace.registry.push(Reference(parsing: "kind"), folder: folder, baseName: expected.base!)
        let row = result.artifact
        #expect(row.parameters == expected.parameters, "\(name): parameters")
        #expect(row.headParameters == expected.head_parameters, "\(name): head parameters")
        #expect(row.format == (expected.library == "peft" ? .peft : .adapters))
        #expect(row.engineNote?.contains("\n") != true)
        if case .other = row.architecture { Issue.record("\(name): kind \(expected.kind ?? "?") not recognised") }
        // Pulled back out: the stored tensors are the folder's, byte for byte (a .bin comes out as safetensors).
        let out = workspace.root + "/out"
        _ = try workspace.registry.export(Reference(parsing: "kind"), to: out)
        let original = try AdapterFolder(path: folder), exported = try AdapterFolder(path: out)
        for (file, copy) in zip(original.files, exported.files) {
            if let tensors = file.safetensors { #expect(tensors.canonicalBytes() == copy.safetensors?.canonicalBytes(), "\(name)/\(file.name)") }
        }
    }

    @Test(arguments: [
        ("adapters-seq-bn-layer-out-of-range", "adapter.safetensors: tensor 'bert.encoder.layer.2.output.adapters.seq_bn.adapter_down.0.bias' does not fit base model 'bert': it is for layer 2, the base has 2 layers"),
        ("peft-bert-lora-from-narrower-bert", "tensor 'base_model.model.encoder.layer.0.attention.self.query.lora_A.weight' does not fit base model 'bert': lora_A [4, 16] must read the 32 input features"),
        ("peft-bert-lora-wrong-in-features", "tensor 'base_model.model.encoder.layer.1.attention.self.value.lora_A.weight' does not fit base model 'bert': lora_A [4, 33]"),
        ("peft-llama-lora-on-bert", "tensor 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' does not fit base model 'bert': module model.layers.0.self_attn.q_proj is not in the base"),
    ])
    func adapterThatDoesNotFitIsRefused(_ name: String, _ message: String) throws {
        let workspace = try Workspace.empty()
        try workspace.registry.addBase(folder: Self.root + "/bases/bert", name: "bert")
        let before = try workspace.snapshot()
        let error = try #require(throws: QuiverError.self) {
            try workspace.registry.push(Reference(parsing: "bad"), folder: Self.root + "/negatives/" + name, baseName: "bert")
        }
        #expect(error.kind == .incompatible)
        #expect(error.message.contains(message), "\(error.message)")
        #expect(!error.message.contains("\n"))
        #expect(try workspace.snapshot() == before)
    }

    @Test(arguments: [
        ("base-index-wrong-shard", "model-00001-of-00004.safetensors: tensor 'model.layers.0.self_attn.v_proj.weight' is not assigned to this shard"),
        ("base-sharded-duplicate-tensor", "tensor 'model.embed_tokens.weight'"),
        ("base-sharded-missing-file", "model.safetensors.index.json names model-00003-of-00004.safetensors, which is not in the folder"),
    ])
    func brokenShardedBaseIsRefused(_ name: String, _ message: String) throws {
        let workspace = try Workspace.empty()
        let before = try workspace.snapshot()
        let error = try #require(throws: QuiverError.self) {
            try workspace.registry.addBase(folder: Self.root + "/negatives/" + name, name: "broken")
        }
        #expect(error.kind == .invalidInput)
        #expect(error.message.contains(message), "\(error.message)")
        #expect(try workspace.snapshot() == before)
    }

    /// An adapter that names another base is stored against the one it is pushed on, with a warning.
    @Test func otherBaseNameIsAWarning() throws {
        let workspace = try Workspace.empty()
        try workspace.registry.addBase(folder: Self.root + "/bases/bert", name: "bert")
        let result = try workspace.registry.push(Reference(parsing: "p"), folder: Self.root + "/negatives/peft-base-name-differs", baseName: "bert")
        #expect(result.outcome == .stored)
        #expect(result.warnings.count == 1 && result.warnings[0].contains("base_model_name_or_path \"bert-base-uncased\""))
    }

    /// A classifier saved with its trained pooler (`modules_to_save: ["pooler"]`) runs on that pooler; LoRA on the
    /// pooler under a classifier would change the logits and is stored, not run, saying so.
    @Test func poolerUnderAClassifier() throws {
        let workspace = try Workspace.empty()
        try workspace.registry.addBase(folder: Self.root + "/bases/bert", name: "bert")
        let trained = try workspace.registry.push(Reference(parsing: "p"), folder: Self.root + "/adapters/peft-bert-lora-seq-cls-pooler", baseName: "bert").artifact
        #expect(trained.runnable, "\(trained.engineNote ?? "")")
        // The same classifier with its first LoRA pair moved onto pooler.dense (a 32 × 32 Linear, like the query).
        let folder = workspace.root + "/pooler-lora"
        try FileManager.default.copyItem(atPath: Self.root + "/adapters/peft-bert-lora-seq-cls", toPath: folder)
        let file = try SafetensorsFile(path: folder + "/adapter_model.safetensors")
        var tensors: [String: TensorData] = [:]
        for name in file.tensorNames {
            tensors[name.replacingOccurrences(of: "encoder.layer.0.attention.self.query", with: "pooler.dense")] = try file.tensorData(name)
        }
        try Data(Safetensors.serialize(tensors)).write(to: URL(fileURLWithPath: folder + "/adapter_model.safetensors"))
        let onPooler = try workspace.registry.push(Reference(parsing: "q"), folder: folder, baseName: "bert").artifact
        #expect(!onPooler.runnable)
        #expect(onPooler.engineNote?.contains("pooler.dense under a classifier") == true, "\(onPooler.engineNote ?? "nil")")
    }

    /// A peft_type nobody knows is stored as opaque: counts from the tensors, not run.
    @Test func unknownPEFTTypeIsStoredOpaque() throws {
        let workspace = try Workspace.empty()
        try workspace.registry.addBase(folder: Self.root + "/bases/bert", name: "bert")
        let row = try workspace.registry.push(Reference(parsing: "p"), folder: Self.root + "/negatives/peft-unknown-type", baseName: "bert").artifact
        #expect(row.architecture == .other("foo") && !row.runnable)
        #expect(row.parameters > 0)
    }
}
