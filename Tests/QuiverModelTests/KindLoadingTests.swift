import Foundation
import QuiverTensor
import Testing

@testable import QuiverModel

/// IA³ and prefix-tuning folders with a tensor of the wrong shape, a stray tensor or an alias that differs: one-line
/// errors naming the tensor, never a crash; and what the configs parse to.
@Suite struct KindLoadingTests {
    /// Loads `dir` with its weights file edited; returns the error's message.
    func loadingError(
        _ dir: String, weights: String = "adapter.safetensors", _ edit: (inout [String: TensorData]) throws -> Void
    ) throws -> QuiverError {
        let fixtures = KindFixtures.shared
        var files = try fixtures.files(dir)
        files[weights] = try editedSafetensors(files[weights]!, edit)
        do {
            _ = try fixtures.adapter(files: files, source: dir)
        } catch let error as QuiverError {
            #expect(!error.message.contains("\n"), "\(error.message)")
            return error
        }
        Issue.record("\(dir): the edited folder loaded")
        return QuiverError(.invalidInput, "")
    }

    /// Drops the per-layer aliases of a prefix file, keeping the pool's tensors.
    func withoutAliases(_ tensors: inout [String: TensorData]) {
        tensors = tensors.filter { !$0.key.contains(".prefix_tuning.pool.") }
    }

    @Test func prefixOfTheWrongWidthNamesTheTensor() throws {
        let name = "bert.prefix_tuning.prefix_tunings.adapters_prefix.self_prefix.control_trans.2.weight"
        let error = try loadingError("cases/adapters_prefix") { tensors in
            withoutAliases(&tensors)
            // Keys and values for one layer of 32, where the base has two.
            tensors[name] = TensorData(shape: [64, 24], floats: Array(repeating: 0.1, count: 64 * 24))
            tensors["bert.prefix_tuning.prefix_tunings.adapters_prefix.self_prefix.control_trans.2.bias"] = TensorData(
                shape: [64], floats: Array(repeating: 0, count: 64))
        }
        #expect(error.kind == .invalidInput)
        #expect(
            error.message.contains("'\(name)'") && error.message.contains("[64, 24]")
                && error.message.contains("[128, 24]"), "\(error.message)")
    }

    @Test func flatPrefixOfTheWrongLengthNamesTheTensor() throws {
        let name = "bert.prefix_tuning.prefix_tunings.adapters_prefix_flat.self_prefix.control_trans"
        let error = try loadingError("cases/adapters_prefix_flat") { tensors in
            withoutAliases(&tensors)
            tensors[name] = TensorData(shape: [639], floats: Array(repeating: 0.1, count: 639))
        }
        #expect(error.message.contains("'\(name)'") && error.message.contains("[640]"), "\(error.message)")
    }

    @Test func prefixEmbeddingOfAnotherHiddenSizeNamesTheTensor() throws {
        let name = "bert.prefix_tuning.prefix_tunings.adapters_prefix.self_prefix.wte.weight"
        let error = try loadingError("cases/adapters_prefix") { tensors in
            withoutAliases(&tensors)
            tensors[name] = TensorData(shape: [5, 31], floats: Array(repeating: 0.1, count: 5 * 31))
        }
        #expect(error.message.contains("'\(name)'") && error.message.contains("[5, 32]"), "\(error.message)")
    }

    @Test func aliasThatDiffersFromThePoolNamesTheAlias() throws {
        let alias =
            "bert.encoder.layer.1.attention.self.prefix_tuning.pool.prefix_tunings.adapters_prefix.self_prefix.control_trans.0.bias"
        let error = try loadingError("cases/adapters_prefix") { tensors in
            tensors[alias] = TensorData(shape: [24], floats: Array(repeating: 0.5, count: 24))
        }
        #expect(error.message.contains("'\(alias)'") && error.message.contains("alias"), "\(error.message)")
    }

    @Test func strayTensorInAPrefixFileIsNamed() throws {
        let error = try loadingError("cases/adapters_prefix") { tensors in
            tensors["bert.encoder.layer.0.output.adapters.x.adapter_up.bias"] = TensorData(
                shape: [32], floats: Array(repeating: 0, count: 32))
        }
        #expect(
            error.message.contains(
                "'bert.encoder.layer.0.output.adapters.x.adapter_up.bias' is not a prefix tuning tensor"),
            "\(error.message)")
    }

    @Test func ia3VectorOfTheWrongLengthNamesTheTensor() throws {
        let name = "bert.encoder.layer.0.attention.self.key.loras.adapters_ia3.lora_B"
        let error = try loadingError("cases/adapters_ia3") { tensors in
            tensors[name] = TensorData(shape: [31, 1], floats: Array(repeating: 1, count: 31))
        }
        #expect(error.kind == .invalidInput)
        #expect(
            error.message.contains("'\(name)'") && error.message.contains("[31, 1]")
                && error.message.contains("[32, 1]"), "\(error.message)")
    }

    @Test func peftFeedForwardVectorOfTheWrongLengthNamesTheTensor() throws {
        let name = "base_model.model.bert.encoder.layer.1.output.dense.ia3_l"
        let error = try loadingError("cases/peft_ia3_seq_cls", weights: "adapter_model.safetensors") { tensors in
            tensors[name] = TensorData(shape: [32, 1], floats: Array(repeating: 1, count: 32))  // the output form, on a feed-forward module
        }
        #expect(error.message.contains("'\(name)'") && error.message.contains("[1, 64]"), "\(error.message)")
    }

    @Test func ia3VectorOnAProjectionTheConfigLeavesOutIsNamed() throws {
        let name = "bert.encoder.layer.0.attention.self.query.loras.adapters_ia3.lora_B"
        let error = try loadingError("cases/adapters_ia3") { tensors in
            tensors[name] = TensorData(shape: [32, 1], floats: Array(repeating: 1, count: 32))
        }
        #expect(error.message.contains("'\(name)'"), "\(error.message)")
    }

    /// An `adapters` adapter named "ia3" (or "loras") keeps its module: `…key.loras.ia3.lora_B` is the key's.
    @Test(arguments: ["ia3", "loras", "task"])
    func adapterNamedLikeAMarkerNamesItsModule(_ adapter: String) {
        let tuner = TunerTensor.parse("bert.encoder.layer.0.attention.self.key.loras.\(adapter).lora_B", kind: .ia3)
        #expect(tuner == TunerTensor(module: "bert.encoder.layer.0.attention.self.key", marker: "lora_B"))
    }

    // MARK: - Configs and engine notes

    /// Read from its folder, each kind says what it is and that it runs.
    @Test(arguments: [
        ("cases/adapters_ia3", AdapterKind.ia3), ("cases/peft_ia3_seq_cls", .ia3),
        ("cases/adapters_prefix", .prefixTuning),
        ("cases/adapters_prefix_flat", .prefixTuning),
    ])
    func foldersAreRunnable(_ dir: String, _ kind: AdapterKind) throws {
        let folder = try AdapterFolder(path: KindFixtures.shared.path(dir))
        #expect(folder.architecture == kind)
        #expect(folder.engineNote == nil, "\(folder.engineNote ?? "")")
    }

    /// Valid variants this build does not run are stored with a note naming the flag, not refused.
    @Test(arguments: [
        ("cases/adapters_ia3", "use_gating", "use_gating"), ("cases/adapters_prefix", "use_gating", "use_gating"),
    ])
    func variantsTheEngineLacksGetANote(_ dir: String, _ key: String, _ mention: String) throws {
        var files = try KindFixtures.shared.files(dir)
        var json = try JSONSerialization.jsonObject(with: Data(files["adapter_config.json"]!)) as! [String: Any]
        var inner = json["config"] as! [String: Any]
        inner[key] = true
        json["config"] = inner
        files["adapter_config.json"] = [UInt8](try JSONSerialization.data(withJSONObject: json))
        let folder = try AdapterFolder(files: .memory(files, source: dir))
        #expect(folder.engineNote?.contains(mention) == true, "\(folder.engineNote ?? "nil")")
        #expect(folder.engineConfig == nil)
    }

    /// PEFT IA³ on the pooler would change the classifier's input: stored, not run.
    @Test func peftIA3OnThePoolerGetsANote() throws {
        var files = try KindFixtures.shared.files("cases/peft_ia3_seq_cls")
        files["adapter_model.safetensors"] = try editedSafetensors(files["adapter_model.safetensors"]!) { tensors in
            tensors["base_model.model.bert.pooler.dense.ia3_l"] = TensorData(
                shape: [32, 1], floats: Array(repeating: 1, count: 32))
        }
        let folder = try AdapterFolder(files: .memory(files, source: "pooler"))
        #expect(folder.architecture == .ia3)
        #expect(folder.engineNote?.contains("bert.pooler.dense") == true, "\(folder.engineNote ?? "nil")")
    }

    @Test func ia3ConfigsOfBothLibraries() throws {
        let adapters = try IA3Config(
            adaptersJSON: try JSONParser.parse(
                #"{"composition_mode": "scale", "r": 1, "alpha": 2, "attn_matrices": ["q"], "intermediate_lora": false, "output_lora": true, "leave_out": [1]}"#
            ),
            source: "test")
        #expect(adapters.targets == [.query, .output] && adapters.scaling == 2 && adapters.leaveOut == [1])
        #expect(throws: QuiverError.self) {
            try IA3Config(adaptersJSON: try JSONParser.parse(#"{"composition_mode": "scale", "r": 4}"#), source: "test")
        }
        let peft = try IA3Config(
            peftJSON: try JSONParser.parse(#"{"peft_type": "IA3", "feedforward_modules": ["output.dense"]}"#),
            source: "test")
        #expect(peft.isFeedforward(module: "bert.encoder.layer.0.attention.output.dense") == true)  // a plain suffix, as PEFT matches
        #expect(peft.isFeedforward(module: "bert.encoder.layer.0.attention.self.key") == false)
        let regex = try IA3Config(
            peftJSON: try JSONParser.parse(#"{"peft_type": "IA3", "feedforward_modules": ".*output\\.dense"}"#),
            source: "test")
        #expect(regex.isFeedforward(module: "x") == nil)
    }

    @Test func prefixConfigRefusesWhatTheLibraryCannotMean() throws {
        for bad in [
            #"{"prefix_length": 0}"#, #"{"prefix_length": 100000}"#, #"{"flat": "yes"}"#, #"{"bottleneck_size": -1}"#,
        ] {
            #expect(throws: QuiverError.self, "\(bad)") {
                try PrefixTuningConfig(json: try JSONParser.parse(bad), source: "test")
            }
        }
        let config = try PrefixTuningConfig(
            json: try JSONParser.parse(#"{"non_linearity": "relu", "leave_out": [0]}"#), source: "test")
        #expect(config.prefixLength == 30 && config.nonLinearity == .relu && config.leaveOut == [0] && !config.flat)
    }
}
