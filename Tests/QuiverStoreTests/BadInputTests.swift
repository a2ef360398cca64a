import Foundation
import Testing
import QuiverTensor
@testable import QuiverStore
import QuiverModel

/// Every kind of bad input is refused with a one-line error naming the cause, and the registry is
/// left exactly as it was.
@Suite struct BadInputTests {
    /// Runs `action` on a registry holding the base and `sentiment:1`; expects `kind` and a message
    /// containing `mentioning`; checks nothing changed.
    func expectRefusal(
        _ kind: QuiverError.Kind, mentioning: String, sourceLocation: SourceLocation = #_sourceLocation,
        _ action: (Workspace) throws -> Void
    ) throws {
        let workspace = try Workspace.withBase()
        try workspace.registry.push(Reference(parsing: "sentiment"), folder: workspace.sample("sentiment"))
        let before = try workspace.snapshot()
        do {
            try action(workspace)
            Issue.record("accepted", sourceLocation: sourceLocation)
        } catch let error as QuiverError {
            #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(mentioning), "\(error.message)", sourceLocation: sourceLocation)
            #expect(!error.message.contains("\n"), sourceLocation: sourceLocation)
        }
        #expect(try workspace.snapshot() == before, sourceLocation: sourceLocation)
    }

    func push(_ workspace: Workspace, _ reference: String, _ folder: String, force: Bool = false) throws {
        try workspace.registry.push(Reference(parsing: reference), folder: folder, force: force)
    }

    @Test func truncatedSafetensors() throws {
        try expectRefusal(.invalidInput, mentioning: "adapter.safetensors") { workspace in
            let folder = try workspace.copy("topic", to: "bad")
            let bytes = try read(folder + "/adapter.safetensors")
            try write(Array(bytes.prefix(bytes.count - 10)), to: folder + "/adapter.safetensors")
            try push(workspace, "topic", folder)
        }
    }

    @Test func corruptSafetensorsHeader() throws {
        try expectRefusal(.invalidInput, mentioning: "not valid JSON") { workspace in
            let folder = try workspace.copy("topic", to: "bad")
            var bytes = try read(folder + "/adapter.safetensors")
            bytes[9] = UInt8(ascii: "[")  // `{"name"` becomes `{[name"`
            try write(bytes, to: folder + "/adapter.safetensors")
            try push(workspace, "topic", folder)
        }
    }

    @Test func missingWeightsFile() throws {
        try expectRefusal(.invalidInput, mentioning: "missing adapter.safetensors") { workspace in
            let folder = try workspace.copy("topic", to: "bad")
            try FileManager.default.removeItem(atPath: folder + "/adapter.safetensors")
            try push(workspace, "topic", folder)
        }
    }

    @Test func missingConfigFile() throws {
        try expectRefusal(.invalidInput, mentioning: "missing adapter_config.json") { workspace in
            let folder = try workspace.copy("topic", to: "bad")
            try FileManager.default.removeItem(atPath: folder + "/adapter_config.json")
            try push(workspace, "topic", folder)
        }
    }

    /// Config files are read whole, so each kind has a size limit (1 MiB for adapter, head and fusion configs).
    @Test func oversizedConfigFile() throws {
        try expectRefusal(.invalidInput, mentioning: "over the 1048576-byte limit") { workspace in
            let folder = try workspace.copy("topic", to: "bad")
            let config = try Data(contentsOf: URL(fileURLWithPath: folder + "/adapter_config.json"))
            try (config + Data(repeating: 0x20, count: 1 << 20)).write(to: URL(fileURLWithPath: folder + "/adapter_config.json"))
            try push(workspace, "topic", folder)
        }
    }

    @Test func missingFolder() throws {
        try expectRefusal(.invalidInput, mentioning: "not a folder") { workspace in
            try push(workspace, "topic", workspace.root + "/nowhere")
        }
    }

    @Test func headWithoutItsConfig() throws {
        try expectRefusal(.invalidInput, mentioning: "must come together") { workspace in
            let folder = try workspace.copy("topic", to: "bad")
            try FileManager.default.removeItem(atPath: folder + "/head_config.json")
            try push(workspace, "topic", folder)
        }
    }

    /// A `.bin` that is no `torch.save` checkpoint (here: safetensors bytes under the PyTorch name).
    @Test func binThatIsNotACheckpoint() throws {
        try expectRefusal(.invalidInput, mentioning: "not a PyTorch checkpoint") { workspace in
            let folder = try workspace.copy("topic", to: "bad")
            try FileManager.default.moveItem(atPath: folder + "/adapter.safetensors", toPath: folder + "/pytorch_adapter.bin")
            try push(workspace, "topic", folder)
        }
    }

    @Test func malformedFlagValue() throws {
        try expectRefusal(.invalidInput, mentioning: "\"scaling\" must be") { workspace in
            let folder = try workspace.copy("topic", to: "bad")
            try editJSON(folder + "/adapter_config.json") { json in
                var config = json["config"] as! [String: Any]
                config["scaling"] = "sometimes"
                json["config"] = config
            }
            try push(workspace, "topic", folder)
        }
    }

    /// `post_add` takes the residual after the original LayerNorm's addition; without that LayerNorm the
    /// inference read memory nothing had written. Refused at push, as training refuses it.
    @Test func postAddResidualWithoutTheOriginalLayerNorm() throws {
        try expectRefusal(.invalidInput, mentioning: "residual_before_ln \"post_add\" needs original_ln_before") { workspace in
            let folder = try workspace.copy("topic", to: "bad")
            try editJSON(folder + "/adapter_config.json") { json in
                var config = json["config"] as! [String: Any]
                config["residual_before_ln"] = "post_add"
                config["original_ln_before"] = false
                json["config"] = config
            }
            try push(workspace, "topic", folder)
        }
    }

    @Test(arguments: ["a/b", "..", "a..b", "my task", "Sentiment", "", "-x", "x-", String(repeating: "a", count: 129)])
    func invalidTaskName(_ name: String) throws {
        try expectRefusal(.invalidName, mentioning: "invalid task name") { workspace in
            try push(workspace, name, workspace.sample("topic"))
        }
    }

    @Test(arguments: ["t:", "t:latest", "t:-1", "t:.v", "t:a/b", "t:a b", "t:" + String(repeating: "v", count: 129)])
    func invalidVersion(_ reference: String) throws {
        try expectRefusal(.invalidName, mentioning: "version") { workspace in
            let parsed = try Reference(parsing: reference)
            // `t:latest` parses as the tag; pushing a version named latest is refused explicitly.
            guard parsed.version != nil else { throw QuiverError(.invalidName, "invalid version 'latest'") }
            try workspace.registry.push(parsed, folder: workspace.sample("topic"))
        }
    }

    @Test func adapterForAnotherHiddenSize() throws {
        try expectRefusal(.incompatible, mentioning: "hidden_size 64") { workspace in
            let folder = try workspace.copy("topic", to: "bad")
            try editJSON(folder + "/adapter_config.json") { $0["hidden_size"] = 64 }
            try push(workspace, "topic", folder)
        }
    }

    @Test func adapterForMoreLayers() throws {
        try expectRefusal(.incompatible, mentioning: "layer 9") { workspace in
            let folder = try workspace.copy("topic", to: "bad")
            let file = try SafetensorsFile(path: folder + "/adapter.safetensors")
            var tensors: [String: TensorData] = [:]
            for name in file.tensorNames { tensors[name.replacingOccurrences(of: "layer.3.", with: "layer.9.")] = try file.tensorData(name) }
            try write(Safetensors.serialize(tensors), to: folder + "/adapter.safetensors")
            try push(workspace, "topic", folder)
        }
    }

    @Test func adapterTensorOfTheWrongShape() throws {
        try expectRefusal(.incompatible, mentioning: "adapter_up.weight") { workspace in
            let folder = try workspace.copy("sentiment", to: "bad")
            let file = try SafetensorsFile(path: folder + "/adapter.safetensors")
            var tensors: [String: TensorData] = [:]
            for name in file.tensorNames { tensors[name] = try file.tensorData(name) }
            let name = "bert.encoder.layer.0.output.adapters.sentiment.adapter_up.weight"
            tensors[name] = TensorData(shape: [64, 16], floats: Array(repeating: 0, count: 64 * 16))
            try write(Safetensors.serialize(tensors), to: folder + "/adapter.safetensors")
            try push(workspace, "sentiment2", folder)
        }
    }

    @Test func unexpectedTensorInAdapter() throws {
        try expectRefusal(.invalidInput, mentioning: "is not a seq_bn adapter tensor") { workspace in
            let folder = try workspace.copy("sentiment", to: "bad")
            let file = try SafetensorsFile(path: folder + "/adapter.safetensors")
            var tensors: [String: TensorData] = [:]
            for name in file.tensorNames { tensors[name] = try file.tensorData(name) }
            tensors["bert.embeddings.word_embeddings.weight"] = TensorData(shape: [1], floats: [0])
            try write(Safetensors.serialize(tensors), to: folder + "/adapter.safetensors")
            try push(workspace, "sentiment2", folder)
        }
    }

    @Test func unknownBaseModel() throws {
        try expectRefusal(.notFound, mentioning: "no base model named 'bert-large'") { workspace in
            try workspace.registry.push(Reference(parsing: "topic"), folder: workspace.sample("topic"), baseName: "bert-large")
        }
    }

    @Test func existingVersionWithOtherContent() throws {
        try expectRefusal(.conflict, mentioning: "already exists with different content") { workspace in
            try push(workspace, "sentiment:1", workspace.sample("topic"))
        }
    }

    @Test func invalidBaseModelFolder() throws {
        try expectRefusal(.invalidInput, mentioning: "missing tensor") { workspace in
            let folder = try workspace.copy("tiny-bert", to: "bad-base")
            let file = try SafetensorsFile(path: folder + "/model.safetensors")
            var tensors: [String: TensorData] = [:]
            for name in file.tensorNames where !name.contains("layer.2.output.dense") { tensors[name] = try file.tensorData(name) }
            try write(Safetensors.serialize(tensors), to: folder + "/model.safetensors")
            try workspace.registry.addBase(folder: folder, name: "other")
        }
    }

    @Test func baseNameTakenByOtherWeights() throws {
        try expectRefusal(.conflict, mentioning: "already exists with other content") { workspace in
            let folder = try workspace.copy("tiny-bert", to: "bad-base")
            try SampleFolders.write(to: workspace.root + "/other-samples", seed: 99)
            try FileManager.default.removeItem(atPath: folder + "/model.safetensors")
            try FileManager.default.copyItem(atPath: workspace.root + "/other-samples/tiny-bert/model.safetensors", toPath: folder + "/model.safetensors")
            try workspace.registry.addBase(folder: folder, name: "tiny-bert")
        }
    }

    @Test func removingABaseInUse() throws {
        try expectRefusal(.conflict, mentioning: "is used by 1 adapters") { workspace in
            try workspace.registry.removeBase(named: "tiny-bert")
        }
    }

    @Test func exportOverAFileWithOtherContent() throws {
        try expectRefusal(.conflict, mentioning: "already exists with other content") { workspace in
            let output = workspace.root + "/out"
            try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
            try write([1, 2, 3], to: output + "/adapter_config.json")
            try workspace.registry.export(Reference(parsing: "sentiment"), to: output)
        }
    }
}

/// JSON values usable as test arguments.
enum JSONValueBox: Sendable, CustomTestStringConvertible {
    case bool(Bool)
    case string(String)

    var any: Any {
        switch self {
        case .bool(let value): value
        case .string(let value): value
        }
    }

    var testDescription: String {
        switch self {
        case .bool(let value): "\(value)"
        case .string(let value): value
        }
    }
}
