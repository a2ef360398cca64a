import Foundation
import QuiverStore
import QuiverTensor
import Testing
@testable import QuiverModel

/// A trained model's files load back with `TaskModel` and give the model's logits; configs are written as the
/// `adapters` library writes them.
@Suite struct TrainingExportTests {
    static let base = AdapterFixtures.shared.base
    static let input = AdapterFixtures.shared.input

    /// A few SGD steps with dropout, so that every tensor has moved from its initial value.
    static func train(_ model: TrainableTask) throws {
        var random = SeededGenerator(seed: 11)
        for _ in 0..<3 {
            _ = try model.trainStep(TrainingBatch(input: input, labels: [0, 1, 1, 0]), dropout: true, random: &random)
            for parameter in model.parameters {
                for i in 0..<parameter.count { parameter.value.pointer[i] -= 0.5 * parameter.gradient.pointer[i] }
                parameter.zeroGradient()
            }
        }
    }

    static func inferenceLogits(_ task: TaskModel) throws -> [Float] {
        let states = try base.encoder.forward(input, hooks: CompositionHooks(task.composition, batch: input.batch))
        return try #require(task.head).logits(states).flatMap { $0 }
    }

    @Test(arguments: ["seq_bn", "double_seq_bn"])
    func bottleneckRoundTrip(_ preset: String) throws {
        let model = try TrainableTask.bottleneck(
            name: "task", config: try #require(BottleneckConfig.preset(preset)), reductionFactor: 4,
            labels: ["neg", "pos"], base: Self.base.encoder, baseName: "tiny", seed: 1)
        try Self.train(model)
        let files = try model.exportFiles()
        #expect(Set(files.keys) == ["adapter_config.json", "adapter.safetensors", "head_config.json", "model_head.safetensors"])
        let task = try TaskModel.adapter(name: "task", files: files, source: "export", base: Self.base.config)
        #expect(task.labels == ["neg", "pos"])
        expectClose(try Self.inferenceLogits(task), try model.logits(Self.input).flatMap { $0 }, relative: 1e-5, preset)
        // And the folder trains on from where it stopped.
        let continued = try TrainableTask.loading(files: files, source: "export", base: Self.base.encoder)
        expectClose(try continued.logits(Self.input).flatMap { $0 }, try model.logits(Self.input).flatMap { $0 }, relative: 1e-6, "continued")
        #expect(try continued.exportFiles() == files)
    }

    @Test func loraRoundTrip() throws {
        let model = try TrainableTask.lora(
            name: "task", rank: 4, alpha: 8, attentionMatrices: ["q", "k", "v"], labels: ["a", "b"],
            base: Self.base.encoder, baseName: "tiny", seed: 2)
        try Self.train(model)
        let task = try TaskModel.adapter(name: "task", files: try model.exportFiles(), source: "export", base: Self.base.config)
        expectClose(try Self.inferenceLogits(task), try model.logits(Self.input).flatMap { $0 }, relative: 1e-5, "lora")
    }

    @Test(arguments: [false, true])
    func fusionRoundTrip(_ unfreeze: Bool) throws {
        let fixtures = AdapterFixtures.shared
        let members = try ["fusion_dynamic/members/a", "fusion_dynamic/members/b"].map { dir -> BottleneckAdapter in
            guard case .adapter(let adapter as BottleneckAdapter) = try TaskModel.adapter(
                name: dir, files: try TaskModel.folderFiles(fixtures.path("cases/" + dir)), source: dir,
                base: Self.base.config).composition
            else { throw QuiverError(.invalidInput, "not a bottleneck adapter") }
            return adapter
        }
        let model = try TrainableTask.fusion(
            members: [("a", members[0]), ("b", members[1])], config: try #require(FusionConfig.preset("dynamic")),
            labels: ["x", "y", "z"], base: Self.base.encoder, baseName: "tiny", unfreezeMembers: unfreeze, seed: 3)
        try Self.train(model)
        let files = try model.exportFiles()
        var loadedMembers = members
        if unfreeze {
            loadedMembers = try ["a", "b"].map { name in
                let memberFiles = ["adapter_config.json": files["members/\(name)/adapter_config.json"]!,
                                   "adapter.safetensors": files["members/\(name)/adapter.safetensors"]!]
                guard case .adapter(let adapter as BottleneckAdapter) = try TaskModel.adapter(
                    name: name, files: memberFiles, source: name, base: Self.base.config).composition
                else { throw QuiverError(.invalidInput, "not a bottleneck adapter") }
                return adapter
            }
        }
        let task = try TaskModel.fusion(name: "a,b", files: files, members: loadedMembers, source: "export", base: Self.base.config)
        expectClose(try Self.inferenceLogits(task), try model.logits(Self.input).flatMap { $0 }, relative: 1e-5, "fusion")
    }

    @Test func peftRoundTrip() throws {
        let fixtures = GradientFixtures.shared
        let files = try fixtures.files("peft_lora")
        let model = try TrainableTask.loading(files: files, source: "peft", base: Self.base.encoder)
        #expect(try model.exportFiles() == files.filter { $0.key != "gradients.safetensors" })
        try Self.train(model)
        let exported = try model.exportFiles()
        let reloaded = try TrainableTask.loading(files: exported, source: "peft", base: Self.base.encoder)
        expectClose(try reloaded.logits(Self.input).flatMap { $0 }, try model.logits(Self.input).flatMap { $0 }, relative: 1e-6, "peft")
    }

    // MARK: - Config files

    /// The presets' files are byte for byte those the library saved for the fixtures.
    @Test(arguments: ["seq_bn", "double_seq_bn"])
    func presetConfigsMatchTheLibrary(_ preset: String) throws {
        let fixtures = GradientFixtures.shared
        let model = try TrainableTask.bottleneck(
            name: preset, config: try #require(BottleneckConfig.preset(preset)), labels: ["negative", "neutral", "positive"],
            base: Self.base.encoder, baseName: "quiver-tiny-bert", headLayers: preset == "seq_bn" ? 2 : 1, seed: 1)
        let files = try model.exportFiles()
        let saved = try fixtures.files(preset)
        #expect(String(decoding: files["adapter_config.json"]!, as: UTF8.self) == String(decoding: saved["adapter_config.json"]!, as: UTF8.self))
        #expect(String(decoding: files["head_config.json"]!, as: UTF8.self) == String(decoding: saved["head_config.json"]!, as: UTF8.self))
        // Same tensor names and shapes as the library's.
        let ours = try SafetensorsFile(bytes: files["adapter.safetensors"]!, source: "ours").header.tensors.map { "\($0.name) \($0.shape)" }
        let theirs = try SafetensorsFile(bytes: saved["adapter.safetensors"]!, source: "theirs").header.tensors.map { "\($0.name) \($0.shape)" }
        #expect(ours.sorted() == theirs.sorted())
    }

    @Test func loraAndFusionConfigsMatchTheLibrary() throws {
        let fixtures = GradientFixtures.shared
        let file = LibraryConfigFile(modelName: "quiver-tiny-bert", base: AdapterFixtures.shared.base.config)
        let lora = try LoRAConfig.adapters(rank: 8, alpha: 16)
        #expect(file.bytes(name: "lora", config: lora.libraryJSON) == (try fixtures.files("lora"))["adapter_config.json"]!)
        for (preset, dir) in [("dynamic", "fusion_dynamic/fusion"), ("static", "fusion_static/fusion")] {
            let config = try #require(FusionConfig.preset(preset))
            #expect(
                String(decoding: file.fusionBytes(adapterNames: ["a", "b"], config: config), as: UTF8.self)
                    == String(decoding: try fixtures.files(dir)["adapter_fusion_config.json"]!, as: UTF8.self), "\(preset)")
        }
    }

    @Test func pythonJSONEscapesLikePython() {
        #expect(PythonJSON.pretty(.object([("b", .array([])), ("a", .string("é\"\n"))])) == "{\n  \"a\": \"\\u00e9\\\"\\n\",\n  \"b\": []\n}")
        #expect(PythonJSON.pretty(.object([("x", .number(0.0001)), ("y", .number(1))])) == "{\n  \"x\": 0.0001,\n  \"y\": 1.0\n}")
    }
}
