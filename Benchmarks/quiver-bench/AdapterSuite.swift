// The adapters that `quiver-bench adapters` and `quiver-bench realistic` run: random seq_bn adapters with 2-layer
// classification heads (and dynamic fusions over them), written in the `adapters` library's saved layout so that
// Quiver loads them through its import path and the PyTorch peers load the very same folders.
import Foundation
import QuiverModel
import QuiverTensor

/// Random seq_bn adapters with heads and dynamic fusions over the first 3 and 8 (when there are that many), in the
/// `adapters` library's saved layout (file name → bytes), loaded through Quiver's own import path. The weights come
/// from a fixed seed: adapter `a0` is the same for every `adapterCount`.
struct AdapterSuite {
    static let modelName = "sentence-transformers/all-MiniLM-L6-v2"
    let bottleneck: Int
    /// Folder name ("a0", …, "fuse3", "fuse8") → its files.
    let folders: [(name: String, files: [String: [UInt8]])]
    let adapters: [TaskModel]
    let fusions: [String: TaskModel]

    init(base: BaseModel, adapterCount: Int) throws {
        let h = base.config.hiddenSize
        bottleneck = h / 16
        var generator = SeededGenerator(seed: 4)
        var folders: [(name: String, files: [String: [UInt8]])] = []
        var adapters: [TaskModel] = []
        for index in 0..<adapterCount {
            let name = "a\(index)"
            let files = Self.adapterFiles(name: name, config: base.config, bottleneck: bottleneck, generator: &generator)
            folders.append((name, files))
            adapters.append(try TaskModel.adapter(name: name, files: files, source: name, base: base.config))
        }
        var fusions: [String: TaskModel] = [:]
        for size in [3, 8] where size <= adapterCount {
            let key = "fuse\(size)"
            let memberNames = (0..<size).map { "a\($0)" }
            let files = Self.fusionFiles(members: memberNames, config: base.config, generator: &generator)
            let members = adapters.prefix(size).map { task -> BottleneckAdapter in
                guard case .adapter(let adapter as BottleneckAdapter) = task.composition else { preconditionFailure("seq_bn is a bottleneck adapter") }
                return adapter
            }
            folders.append((key, files))
            fusions[key] = try TaskModel.fusion(name: key, files: files, members: members, source: key, base: base.config)
        }
        self.folders = folders
        self.adapters = adapters
        self.fusions = fusions
    }

    func write(to path: String) throws {
        for folder in folders {
            let directory = path + "/" + folder.name
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for (file, bytes) in folder.files {
                try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + file))
            }
        }
    }

    // MARK: Files

    private static func adapterFiles(
        name: String, config: BertConfig, bottleneck b: Int, generator: inout SeededGenerator
    ) -> [String: [UInt8]] {
        let h = config.hiddenSize
        var tensors: [String: TensorData] = [:]
        for layer in 0..<config.layerCount {
            let prefix = "bert.encoder.layer.\(layer).output.adapters.\(name)."
            tensors[prefix + "adapter_down.0.weight"] = random([b, h], &generator)
            tensors[prefix + "adapter_down.0.bias"] = random([b], &generator)
            tensors[prefix + "adapter_up.weight"] = random([h, b], &generator)
            tensors[prefix + "adapter_up.bias"] = random([h], &generator)
        }
        var files = headFiles(name: name, hidden: h, generator: &generator)
        files["adapter_config.json"] = json(
            [
                ("config", seqBnConfig),
                ("hidden_size", .integer(Int64(h))),
                ("model_class", .string("BertAdapterModel")),
                ("model_name", .string(modelName)),
                ("model_type", .string("bert")),
                ("name", .string(name)),
                ("version", .string("adapters.1.3.0")),
            ])
        files["adapter.safetensors"] = Safetensors.serialize(tensors, metadata: ["format": "pt"])
        return files
    }

    private static func fusionFiles(members: [String], config: BertConfig, generator: inout SeededGenerator) -> [String: [UInt8]] {
        let h = config.hiddenSize
        let name = members.joined(separator: ",")
        var tensors: [String: TensorData] = [:]
        for layer in 0..<config.layerCount {
            let prefix = "bert.encoder.layer.\(layer).output.adapter_fusion_layer.\(name)."
            for projection in ["query", "key"] {
                tensors[prefix + projection + ".weight"] = random([h, h], &generator)
                tensors[prefix + projection + ".bias"] = random([h], &generator)
            }
            tensors[prefix + "value.weight"] = random([h, h], &generator)
        }
        var files = headFiles(name: name, hidden: h, generator: &generator)
        let dynamic: JSONValue = .object([
            ("dropout_prob", .null), ("key", .bool(true)), ("query", .bool(true)), ("query_before_ln", .bool(false)),
            ("regularization", .bool(true)), ("residual_before", .bool(false)), ("temperature", .bool(false)),
            ("value", .bool(true)), ("value_before_softmax", .bool(true)), ("value_initialized", .bool(true)),
        ])
        files["adapter_fusion_config.json"] = json(
            [
                ("adapter_names", .array(members.map { .string($0) })),
                ("config", dynamic),
                ("hidden_size", .integer(Int64(h))),
                ("model_class", .string("BertAdapterModel")),
                ("model_name", .string(modelName)),
                ("model_type", .string("bert")),
                ("name", .string(name)),
                ("version", .string("adapters.1.3.0")),
            ])
        files["model_adapter_fusion.safetensors"] = Safetensors.serialize(tensors, metadata: ["format": "pt"])
        return files
    }

    /// The library's 2-layer classification head over 2 labels: `heads.NAME.1` (h, h) and `heads.NAME.4` (2, h).
    private static func headFiles(name: String, hidden h: Int, generator: inout SeededGenerator) -> [String: [UInt8]] {
        let tensors = [
            "heads.\(name).1.weight": random([h, h], &generator), "heads.\(name).1.bias": random([h], &generator),
            "heads.\(name).4.weight": random([2, h], &generator), "heads.\(name).4.bias": random([2], &generator),
        ]
        let config: JSONValue = .object([
            ("activation_function", .string("tanh")), ("bias", .bool(true)), ("dropout_prob", .null),
            ("head_type", .string("classification")),
            ("label2id", .object([("negative", .integer(0)), ("positive", .integer(1))])),
            ("layers", .integer(2)), ("num_labels", .integer(2)), ("use_pooler", .bool(false)),
        ])
        return [
            "head_config.json": json(
                [
                    ("config", config), ("hidden_size", .integer(Int64(h))), ("model_class", .string("BertAdapterModel")),
                    ("model_name", .string(modelName)), ("model_type", .string("bert")), ("name", .string(name)),
                    ("version", .string("adapters.1.3.0")),
                ]),
            "model_head.safetensors": Safetensors.serialize(tensors, metadata: ["format": "pt"]),
        ]
    }

    /// The `seq_bn` preset's config as adapters 1.3 saves it (Tests/…/cases/seq_bn/adapter_config.json).
    private static let seqBnConfig: JSONValue = .object([
        ("adapter_residual_before_ln", .bool(false)), ("cross_adapter", .bool(false)), ("dropout", .number(0)),
        ("factorized_phm_W", .bool(true)), ("factorized_phm_rule", .bool(false)),
        ("hypercomplex_nonlinearity", .string("glorot-uniform")), ("init_weights", .string("bert")),
        ("init_weights_seed", .null), ("inv_adapter", .null), ("inv_adapter_reduction_factor", .null),
        ("is_parallel", .bool(false)), ("learn_phm", .bool(true)), ("leave_out", .array([])), ("ln_after", .bool(false)),
        ("ln_before", .bool(false)), ("mh_adapter", .bool(false)), ("non_linearity", .string("relu")),
        ("original_ln_after", .bool(true)), ("original_ln_before", .bool(true)), ("output_adapter", .bool(true)),
        ("phm_bias", .bool(true)), ("phm_c_init", .string("normal")), ("phm_dim", .integer(4)),
        ("phm_init_range", .number(0.0001)), ("phm_layer", .bool(false)), ("phm_rank", .integer(1)),
        ("reduction_factor", .integer(16)), ("residual_before_ln", .bool(true)), ("scaling", .number(1.0)),
        ("shared_W_phm", .bool(false)), ("shared_phm_rule", .bool(true)), ("stochastic_depth", .number(0)),
        ("use_gating", .bool(false)),
    ])

    private static func json(_ members: [(String, JSONValue)]) -> [UInt8] {
        Array(JSONWriter.serialize(.object(members.map { (key: $0.0, value: $0.1) })).utf8)
    }

    private static func random(_ shape: [Int], _ generator: inout SeededGenerator) -> TensorData {
        TensorData(shape: shape, floats: generator.normal(count: shape.reduce(1, *), standardDeviation: 0.02))
    }
}
