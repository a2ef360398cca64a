import Foundation
import QuiverTensor

/// Writes a small BERT-shaped base model and several task adapters with random weights, in the
/// Hugging Face, `adapters` and PEFT folder layouts, so demos and tests exercise the real import
/// paths without a network. Everything is derived from the seed: the same seed, the same bytes.
public enum SampleFolders {
    /// The sample base model's shape.
    public static let config = SampleConfig(hiddenSize: 128, layerCount: 4, headCount: 4, intermediateSize: 512, maxPositions: 128)

    public struct SampleConfig: Sendable {
        public var hiddenSize, layerCount, headCount, intermediateSize, maxPositions: Int

        public init(hiddenSize: Int, layerCount: Int, headCount: Int, intermediateSize: Int, maxPositions: Int) {
            self.hiddenSize = hiddenSize
            self.layerCount = layerCount
            self.headCount = headCount
            self.intermediateSize = intermediateSize
            self.maxPositions = maxPositions
        }
    }

    /// Writes `tiny-bert/` and the adapter folders into `folder`; returns their paths.
    @discardableResult
    public static func write(to folder: String, seed: UInt64 = 42) throws -> [String] {
        var random = SeededGenerator(seed: seed)
        var written: [String] = []
        func emit(_ name: String, _ files: [String: [UInt8]]) throws {
            try writeFolder(folder + "/" + name, files)
            written.append(folder + "/" + name)
        }
        try emit("tiny-bert", baseModel(&random, config: config))
        try emit("sentiment", bottleneckAdapter(&random, name: "sentiment", mh: false, reduction: 16, nonLinearity: "relu", labels: ["negative", "positive"], dtype: .f32))
        try emit("topic", bottleneckAdapter(&random, name: "topic", mh: true, reduction: 8, nonLinearity: "swish", labels: ["world", "sports", "business", "science"], dtype: .f32))
        try emit("language-id", bottleneckAdapter(&random, name: "language-id", mh: false, reduction: 4, nonLinearity: "relu", labels: ["en", "de", "fr", "es", "it"], dtype: .bf16))
        try emit("entailment", loraAdapter(&random, name: "entailment", rank: 8, labels: ["entailment", "neutral", "contradiction"]))
        try emit("paraphrase-peft", peftAdapter(&random, rank: 4))
        try emit("review-fusion", fusion(&random, members: ["sentiment", "topic"], labels: ["bad", "mixed", "good"]))
        return written
    }

    // MARK: - Base model

    /// Writes only a base model folder of the given shape (benchmarks use larger ones).
    public static func writeBaseModel(to path: String, config: SampleConfig, seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        try writeFolder(path, baseModel(&random, config: config))
    }

    /// Writes only a `seq_bn` adapter folder with a head, for a base of the given shape.
    public static func writeAdapter(to path: String, name: String, config: SampleConfig, reduction: Int = 16, seed: UInt64) throws {
        var random = SeededGenerator(seed: seed)
        try writeFolder(path, bottleneckAdapter(&random, name: name, mh: false, reduction: reduction, nonLinearity: "relu", labels: ["negative", "positive"], dtype: .f32, config: config))
    }

    static func writeFolder(_ path: String, _ files: [String: [UInt8]]) throws {
        try FileSystem.createDirectory(path)
        for (file, bytes) in files.sorted(by: { $0.key < $1.key }) {
            do {
                try Data(bytes).write(to: URL(fileURLWithPath: path + "/" + file), options: .atomic)
            } catch {
                throw QuiverError(.io, "cannot write \(path)/\(file): \(error.localizedDescription)")
            }
        }
    }

    static func baseModel(_ random: inout SeededGenerator, config c: SampleConfig) -> [String: [UInt8]] {
        let vocabulary = sampleVocabulary()
        var tensors: [String: TensorData] = [:]
        func matrix(_ name: String, _ rows: Int, _ columns: Int) {
            tensors[name] = TensorData(shape: [rows, columns], floats: random.normal(count: rows * columns, standardDeviation: 0.02))
        }
        func vector(_ name: String, _ size: Int, mean: Float = 0, deviation: Float = 0.02) {
            tensors[name] = TensorData(shape: [size], floats: random.normal(count: size, standardDeviation: deviation, mean: mean))
        }
        matrix("embeddings.word_embeddings.weight", vocabulary.count, c.hiddenSize)
        matrix("embeddings.position_embeddings.weight", c.maxPositions, c.hiddenSize)
        matrix("embeddings.token_type_embeddings.weight", 2, c.hiddenSize)
        vector("embeddings.LayerNorm.weight", c.hiddenSize, mean: 1)
        vector("embeddings.LayerNorm.bias", c.hiddenSize)
        for layer in 0..<c.layerCount {
            let p = "encoder.layer.\(layer)."
            for projection in ["query", "key", "value"] {
                matrix(p + "attention.self.\(projection).weight", c.hiddenSize, c.hiddenSize)
                vector(p + "attention.self.\(projection).bias", c.hiddenSize)
            }
            matrix(p + "attention.output.dense.weight", c.hiddenSize, c.hiddenSize)
            vector(p + "attention.output.dense.bias", c.hiddenSize)
            vector(p + "attention.output.LayerNorm.weight", c.hiddenSize, mean: 1)
            vector(p + "attention.output.LayerNorm.bias", c.hiddenSize)
            matrix(p + "intermediate.dense.weight", c.intermediateSize, c.hiddenSize)
            vector(p + "intermediate.dense.bias", c.intermediateSize)
            matrix(p + "output.dense.weight", c.hiddenSize, c.intermediateSize)
            vector(p + "output.dense.bias", c.hiddenSize)
            vector(p + "output.LayerNorm.weight", c.hiddenSize, mean: 1)
            vector(p + "output.LayerNorm.bias", c.hiddenSize)
        }
        matrix("pooler.dense.weight", c.hiddenSize, c.hiddenSize)
        vector("pooler.dense.bias", c.hiddenSize)
        return baseFolderFiles(tensors: tensors, vocabulary: vocabulary, config: c)
    }

    /// A Hugging Face BERT folder's files: `config.json`, `model.safetensors`, `vocab.txt`, `tokenizer_config.json`.
    static func baseFolderFiles(tensors: [String: TensorData], vocabulary: [String], config c: SampleConfig) -> [String: [UInt8]] {
        let configJSON: [String: Any] = [
            "architectures": ["BertModel"], "model_type": "bert", "vocab_size": vocabulary.count,
            "hidden_size": c.hiddenSize, "num_hidden_layers": c.layerCount, "num_attention_heads": c.headCount,
            "intermediate_size": c.intermediateSize, "max_position_embeddings": c.maxPositions, "type_vocab_size": 2,
            "hidden_act": "gelu", "layer_norm_eps": 1e-12, "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
            "initializer_range": 0.02, "pad_token_id": 0, "position_embedding_type": "absolute",
        ]
        return [
            "config.json": json(configJSON),
            "model.safetensors": Safetensors.serialize(tensors, metadata: ["format": "pt"]),
            "vocab.txt": Array((vocabulary.joined(separator: "\n") + "\n").utf8),
            "tokenizer_config.json": json(["do_lower_case": true, "model_max_length": c.maxPositions, "tokenizer_class": "BertTokenizer"]),
        ]
    }

    /// Special tokens, lower-case words, single characters and `##` continuations.
    static func sampleVocabulary() -> [String] {
        let specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
        let punctuation = Array("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~").map(String.init)
        let characters = Array("abcdefghijklmnopqrstuvwxyz0123456789").map(String.init)
        let words = """
            the of and to in is was it for on with as at by this that from be are have not but or an they
            you he she we his her their one all would there what so up out if about who get which go me when
            make can like time no just him know take people into year your good some could them see other
            than then now look only come its over think also back after use two how our work first well way
            even new want because any these give day most us great movie film story bad terrible excellent
            boring love hate happy sad sports game team match win business market stock price science
            research study space world news language english german french spanish italian question answer
            true false yes maybe good better best worse worst product service quality fast slow
            """.split(whereSeparator: \.isWhitespace).map(String.init)
        let continuations = ["##s", "##ed", "##ing", "##ly", "##er", "##est", "##ion", "##al"] + characters.map { "##" + $0 }
        var seen = Set<String>()
        return (specials + punctuation + characters + words + continuations).filter { seen.insert($0).inserted }
    }

    // MARK: - Adapters

    static func bottleneckAdapter(
        _ random: inout SeededGenerator, name: String, mh: Bool, reduction: Int, nonLinearity: String, labels: [String], dtype: DType,
        config c: SampleConfig = config
    ) -> [String: [UInt8]] {
        let bottleneck = c.hiddenSize / reduction
        var tensors: [String: TensorData] = [:]
        for layer in 0..<c.layerCount {
            for location in mh ? ["attention.output", "output"] : ["output"] {
                let p = "bert.encoder.layer.\(layer).\(location).adapters.\(name)."
                tensors[p + "adapter_down.0.weight"] = TensorData(shape: [bottleneck, c.hiddenSize], floats: random.normal(count: bottleneck * c.hiddenSize, standardDeviation: 0.02), dtype: dtype)
                tensors[p + "adapter_down.0.bias"] = TensorData(shape: [bottleneck], floats: random.normal(count: bottleneck, standardDeviation: 0.02), dtype: dtype)
                tensors[p + "adapter_up.weight"] = TensorData(shape: [c.hiddenSize, bottleneck], floats: random.normal(count: bottleneck * c.hiddenSize, standardDeviation: 0.02), dtype: dtype)
                tensors[p + "adapter_up.bias"] = TensorData(shape: [c.hiddenSize], floats: random.normal(count: c.hiddenSize, standardDeviation: 0.02), dtype: dtype)
            }
        }
        let adapterConfig: [String: Any] = [
            "adapter_residual_before_ln": false, "cross_adapter": false, "dropout": 0.0, "factorized_phm_W": true,
            "factorized_phm_rule": false, "hypercomplex_nonlinearity": "glorot-uniform", "init_weights": "bert",
            "init_weights_seed": NSNull(), "inv_adapter": NSNull(), "inv_adapter_reduction_factor": NSNull(), "is_parallel": false,
            "learn_phm": true, "leave_out": [Int](), "ln_after": false, "ln_before": false, "mh_adapter": mh,
            "non_linearity": nonLinearity, "original_ln_after": true, "original_ln_before": !mh, "output_adapter": true,
            "phm_bias": true, "phm_c_init": "normal", "phm_dim": 4, "phm_init_range": 0.0001, "phm_layer": false, "phm_rank": 1,
            "reduction_factor": reduction, "residual_before_ln": true, "scaling": 1.0, "shared_W_phm": false,
            "shared_phm_rule": true, "stochastic_depth": 0.0, "use_gating": false,
        ]
        return adapterFiles(name: name, config: adapterConfig, tensors: tensors, hiddenSize: c.hiddenSize)
            .merging(head(&random, name: name, labels: labels, dtype: dtype, hiddenSize: c.hiddenSize)) { first, _ in first }
    }

    static func loraAdapter(_ random: inout SeededGenerator, name: String, rank: Int, labels: [String]) -> [String: [UInt8]] {
        let c = config
        var tensors: [String: TensorData] = [:]
        for layer in 0..<c.layerCount {
            for projection in ["query", "value"] {
                let p = "bert.encoder.layer.\(layer).attention.self.\(projection).loras.\(name)."
                tensors[p + "lora_A"] = TensorData(shape: [rank, c.hiddenSize], floats: random.normal(count: rank * c.hiddenSize, standardDeviation: 0.05))
                tensors[p + "lora_B"] = TensorData(shape: [c.hiddenSize, rank], floats: random.normal(count: rank * c.hiddenSize, standardDeviation: 0.02))
            }
        }
        let adapterConfig: [String: Any] = [
            "alpha": rank, "architecture": "lora", "attn_matrices": ["q", "v"], "composition_mode": "add", "dropout": 0.0,
            "dtype": NSNull(), "init_weights": "lora", "init_weights_seed": NSNull(), "intermediate_lora": false, "leave_out": [Int](),
            "output_lora": false, "r": rank, "selfattn_lora": true, "use_dora": false, "use_gating": false,
            "vera_b": NSNull(), "vera_d": NSNull(),
        ]
        return adapterFiles(name: name, config: adapterConfig, tensors: tensors)
            .merging(head(&random, name: name, labels: labels, dtype: .f32)) { first, _ in first }
    }

    static func peftAdapter(_ random: inout SeededGenerator, rank: Int) -> [String: [UInt8]] {
        let c = config
        var tensors: [String: TensorData] = [:]
        for layer in 0..<c.layerCount {
            for projection in ["query", "value"] {
                let p = "base_model.model.encoder.layer.\(layer).attention.self.\(projection)."
                tensors[p + "lora_A.weight"] = TensorData(shape: [rank, c.hiddenSize], floats: random.normal(count: rank * c.hiddenSize, standardDeviation: 0.05))
                tensors[p + "lora_B.weight"] = TensorData(shape: [c.hiddenSize, rank], floats: random.normal(count: rank * c.hiddenSize, standardDeviation: 0.02))
            }
        }
        let peftConfig: [String: Any] = [
            "peft_type": "LORA", "task_type": "FEATURE_EXTRACTION", "r": rank, "lora_alpha": 2 * rank, "lora_dropout": 0.0,
            "target_modules": ["query", "value"], "bias": "none", "fan_in_fan_out": false, "inference_mode": true,
            "base_model_name_or_path": "tiny-bert", "modules_to_save": NSNull(),
        ]
        return ["adapter_config.json": json(peftConfig), "adapter_model.safetensors": Safetensors.serialize(tensors, metadata: ["format": "pt"])]
    }

    /// A dynamic AdapterFusion over the members' output adapters (every layer), with a head, as the
    /// `adapters` library's `save_adapter_fusion` writes it.
    static func fusion(_ random: inout SeededGenerator, members: [String], labels: [String]) -> [String: [UInt8]] {
        let h = config.hiddenSize
        let name = members.joined(separator: ",")
        var tensors: [String: TensorData] = [:]
        for layer in 0..<config.layerCount {
            let p = "bert.encoder.layer.\(layer).output.adapter_fusion_layer.\(name)."
            for projection in ["query", "key"] {
                tensors[p + projection + ".weight"] = TensorData(shape: [h, h], floats: random.normal(count: h * h, standardDeviation: 0.02))
                tensors[p + projection + ".bias"] = TensorData(shape: [h], floats: random.normal(count: h, standardDeviation: 0.02))
            }
            // The library starts the value projection near the identity.
            var value = random.normal(count: h * h, standardDeviation: 0.001)
            for index in 0..<h { value[index * h + index] += 1 }
            tensors[p + "value.weight"] = TensorData(shape: [h, h], floats: value)
        }
        let fusionConfig: [String: Any] = [
            "adapter_names": members,
            "config": [
                "dropout_prob": NSNull(), "key": true, "query": true, "query_before_ln": false, "regularization": true,
                "residual_before": false, "temperature": false, "value": true, "value_before_softmax": true, "value_initialized": true,
            ] as [String: Any],
            "hidden_size": h, "model_class": "BertAdapterModel", "model_name": "tiny-bert", "model_type": "bert", "name": name,
            "version": "adapters.1.3.0",
        ]
        return ["adapter_fusion_config.json": json(fusionConfig), "model_adapter_fusion.safetensors": Safetensors.serialize(tensors)]
            .merging(head(&random, name: name, labels: labels, dtype: .f32)) { first, _ in first }
    }

    /// The `adapters` library's classification head: CLS → dropout → Linear → tanh → dropout → Linear.
    static func head(_ random: inout SeededGenerator, name: String, labels: [String], dtype: DType, hiddenSize h: Int = config.hiddenSize) -> [String: [UInt8]] {
        let tensors: [String: TensorData] = [
            "heads.\(name).1.weight": TensorData(shape: [h, h], floats: random.normal(count: h * h, standardDeviation: 0.02), dtype: dtype),
            "heads.\(name).1.bias": TensorData(shape: [h], floats: random.normal(count: h, standardDeviation: 0.02), dtype: dtype),
            "heads.\(name).4.weight": TensorData(shape: [labels.count, h], floats: random.normal(count: labels.count * h, standardDeviation: 0.02), dtype: dtype),
            "heads.\(name).4.bias": TensorData(shape: [labels.count], floats: random.normal(count: labels.count, standardDeviation: 0.02), dtype: dtype),
        ]
        let headConfig: [String: Any] = [
            "config": [
                "activation_function": "tanh", "bias": true, "dropout_prob": NSNull(), "head_type": "classification",
                "label2id": Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) }), "layers": 2,
                "num_labels": labels.count, "use_pooler": false,
            ] as [String: Any],
            "hidden_size": h, "model_class": "BertAdapterModel", "model_name": "tiny-bert", "model_type": "bert", "name": name,
            "version": "adapters.1.3.0",
        ]
        return ["head_config.json": json(headConfig), "model_head.safetensors": Safetensors.serialize(tensors)]
    }

    static func adapterFiles(name: String, config adapterConfig: [String: Any], tensors: [String: TensorData], hiddenSize: Int = config.hiddenSize) -> [String: [UInt8]] {
        let wrapper: [String: Any] = [
            "config": adapterConfig, "hidden_size": hiddenSize, "model_class": "BertAdapterModel",
            "model_name": "tiny-bert", "model_type": "bert", "name": name, "version": "adapters.1.3.0",
        ]
        return ["adapter_config.json": json(wrapper), "adapter.safetensors": Safetensors.serialize(tensors)]
    }

    static func json(_ object: Any) -> [UInt8] {
        var data = try! JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        data.append(UInt8(ascii: "\n"))
        return [UInt8](data)
    }
}
