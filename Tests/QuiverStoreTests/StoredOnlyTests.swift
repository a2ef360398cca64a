import Foundation
import Testing
@testable import QuiverStore
import QuiverModel
import QuiverTensor

/// What this build's engine does not run is still stored — exact counts, checked against its base — and says why
/// it does not run, in one line, wherever a version is shown.
@Suite struct StoredOnlyTests {
    /// Pushes an edited copy of a sample and returns its catalog row; the push must succeed.
    func pushEdited(_ sample: String, file: String, _ edit: @escaping (inout [String: Any]) -> Void) throws -> (Workspace, ArtifactRow) {
        let workspace = try Workspace.withBase()
        let folder = try workspace.copy(sample, to: "edited")
        try editJSON(folder + "/" + file, edit)
        let result = try workspace.registry.push(Reference(parsing: "edited"), folder: folder)
        return (workspace, result.artifact)
    }

    func editInner(_ key: String, _ value: Any) -> (inout [String: Any]) -> Void {
        { json in
            var config = json["config"] as! [String: Any]
            config[key] = value
            json["config"] = config
        }
    }

    @Test(arguments: [
        ("is_parallel", JSONValueBox.bool(true), "par_bn", "is_parallel"),
        ("phm_layer", .bool(true), "compacter", "phm_layer"),
        ("use_gating", .bool(true), "seq_bn", "use_gating"),
        ("non_linearity", .string("gelu_new"), "seq_bn", "non_linearity \"gelu_new\""),
    ])
    func bottleneckVariantsTheEngineLacks(_ key: String, _ value: JSONValueBox, _ kind: String, _ mention: String) throws {
        let (workspace, row) = try pushEdited("sentiment", file: "adapter_config.json", editInner(key, value.any))
        #expect(row.architecture == AdapterKind(rawValue: kind))
        #expect(!row.runnable)
        #expect(row.engineNote?.contains(mention) == true, "\(row.engineNote ?? "nil")")
        #expect(row.engineNote?.contains("\n") == false)
        let summary = try #require(try workspace.registry.list().first { $0.task == "edited" })
        #expect(!summary.runnable && summary.engineNote == row.engineNote)
        #expect(row.parameters > 0 && row.headParameters > 0)
    }

    /// Prefix tuning runs now; a gated one (UniPELT's `use_gating`) is stored with a note naming the flag.
    @Test func gatedPrefixTuningIsStoredNotRun() throws {
        let (_, row) = try pushEdited("sentiment", file: "adapter_config.json") { json in
            var config = json["config"] as! [String: Any]
            config["architecture"] = "prefix_tuning"
            config["use_gating"] = true
            json["config"] = config
        }
        #expect(row.architecture == .prefixTuning && !row.runnable)
        #expect(row.engineNote?.contains("use_gating") == true, "\(row.engineNote ?? "nil")")
    }

    @Test func headOfAnotherTypeIsStoredNotRun() throws {
        let (_, row) = try pushEdited("topic", file: "head_config.json", editInner("head_type", "tagging"))
        #expect(!row.runnable)
        #expect(row.engineNote?.contains("head_type \"tagging\"") == true)
    }

    /// A PEFT type this build does not know is stored as opaque, with counts from its tensors.
    @Test func unknownPEFTTypeIsOpaque() throws {
        let (_, row) = try pushEdited("paraphrase-peft", file: "adapter_config.json") { $0["peft_type"] = "FOO" }
        #expect(row.architecture == .other("foo") && row.format == .peft && !row.runnable)
        #expect(row.engineNote == "peft_type FOO: stored as opaque with exact counts; this build does not know foo's layout")
        #expect(row.parameters == 8192)
    }

    /// PEFT LoRA on the word embeddings (`lora_embedding_A`/`_B`) as well as the projections: checked and stored with
    /// its exact count, not run — the engine runs LoRA on encoder layer projections only.
    @Test func loraOnTheEmbeddingsIsStoredNotRun() throws {
        let workspace = try Workspace.withBase()
        let folder = try workspace.copy("paraphrase-peft", to: "embeddings")
        try editJSON(folder + "/adapter_config.json") { $0["target_modules"] = ["query", "value", "word_embeddings"] }
        let path = folder + "/adapter_model.safetensors"
        let file = try SafetensorsFile(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))), source: path)
        var tensors: [String: TensorData] = [:]
        for tensor in file.header.tensors { tensors[tensor.name] = TensorData(shape: tensor.shape, floats: try file.floats(tensor.name)) }
        let base = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: workspace.sample("tiny-bert") + "/config.json"))) as! [String: Any]
        let (rank, vocabulary, hidden) = (4, base["vocab_size"] as! Int, base["hidden_size"] as! Int)
        let embedding = "base_model.model.embeddings.word_embeddings."
        tensors[embedding + "lora_embedding_A"] = TensorData(shape: [rank, vocabulary], floats: Array(repeating: 0.5, count: rank * vocabulary))
        tensors[embedding + "lora_embedding_B"] = TensorData(shape: [hidden, rank], floats: Array(repeating: 0.5, count: hidden * rank))
        try Data(Safetensors.serialize(tensors)).write(to: URL(fileURLWithPath: path))

        let row = try workspace.registry.push(Reference(parsing: "embeddings"), folder: folder).artifact
        #expect(row.architecture == .lora && !row.runnable)
        #expect(row.engineNote?.contains("word_embeddings") == true, "\(row.engineNote ?? "nil")")
        #expect(row.parameters == 8192 + rank * (vocabulary + hidden))
    }

    /// A base stored by an earlier build carries that build's notes ("stored and distributed; this build's engine runs
    /// bert" on a RoBERTa base). Adding its folder again has this build judge it and every version on it: the base and
    /// its adapters run, an adapter that does not run for its own reason keeps that reason.
    @Test func addingABaseAgainRejudgesItAndItsVersions() throws {
        let (workspace, gated) = try pushEdited("sentiment", file: "adapter_config.json", editInner("use_gating", true))
        let registry = workspace.registry
        let sentiment = try registry.push(Reference(parsing: "sentiment"), folder: workspace.sample("sentiment")).artifact
        let base = try #require(try registry.baseModels().first)
        let stale = "bert: stored and distributed; an earlier build's engine runs nothing"
        try registry.catalog.updateEngineNotes(base: base, note: stale, artifacts: [(sentiment.id!, stale), (gated.id!, stale)])
        #expect(try registry.list().allSatisfy { !$0.runnable })

        let again = try registry.addBase(folder: workspace.sample("tiny-bert"))
        #expect(!again.added && again.base.runnable)
        #expect(try registry.baseModels().first?.engineNote == nil)
        let rows = try registry.list()
        #expect(rows.first { $0.task == "sentiment" }?.runnable == true)
        #expect(rows.first { $0.task == "edited" }?.engineNote?.contains("use_gating") == true)
    }

    /// A base of a family the engine does not run is stored with its counts; adapters on it are stored, not run.
    @Test func foreignBaseIsStoredNotRun() throws {
        let workspace = try Workspace.withBase()
        let folder = try workspace.copy("tiny-bert", to: "other-base")
        try editJSON(folder + "/config.json") { $0["model_type"] = "gpt2" }
        let base = try workspace.registry.addBase(folder: folder, name: "other").base
        #expect(base.modelType == "gpt2" && !base.runnable)
        #expect(base.engineNote == "gpt2: stored and distributed; this build's engine runs bert, roberta, xlm-roberta, distilbert")
        let pushed = try workspace.registry.push(Reference(parsing: "on-gpt2"), folder: workspace.sample("paraphrase-peft"), baseName: "other")
        #expect(!pushed.artifact.runnable && pushed.artifact.engineNote == base.engineNote)
    }

    /// A base added by an earlier Quiver (its manifest's config had fewer fields) is the same base when its folder is
    /// added again: unchanged, not a conflict.
    @Test func baseAddedByAnEarlierVersionIsUnchanged() throws {
        let workspace = try Workspace.withBase()
        let base = try #require(try workspace.registry.baseModels().first)
        try workspace.registry.catalog.database.write { db in
            try db.execute(sql: "UPDATE baseModel SET manifestDigest = configDigest WHERE id = ?", arguments: [base.id!])
        }
        let again = try workspace.registry.addBase(folder: workspace.sample("tiny-bert"), name: base.name)
        #expect(!again.added)
    }
}
