import QuiverTensor

extension TrainableTask {
    // MARK: - New adapters

    /// A new bottleneck adapter (any `BottleneckConfig`, e.g. `.preset("seq_bn")`) and a new classification head,
    /// initialised as the library initialises them (`init_weights="bert"`: normal(0, 0.02) Linear weights, zero
    /// biases, LayerNorms at 1 and 0, learned scaling at 1), from `seed`.
    ///
    /// - Parameters:
    ///   - name: the adapter's (and head's) name in the saved tensor names and configs.
    ///   - reductionFactor: the bottleneck is `hidden / reductionFactor`; nil keeps the config's (16 by default).
    ///   - baseName: the base model's name, recorded as `model_name` in the saved configs.
    public static func bottleneck(
        name: String, config: BottleneckConfig, reductionFactor: Double? = nil, labels: [String], base: BertEncoder,
        baseName: String, headLayers: Int = 2, seed: UInt64
    ) throws -> TrainableTask {
        try checkNewHead(labels: labels, layers: headLayers)
        try config.validate(source: name)
        var config = config
        if let reductionFactor {
            guard reductionFactor > 0 else { throw QuiverError(.invalidInput, "reduction factor must be positive") }
            config.reductionFactor =
                reductionFactor.rounded() == reductionFactor ? .integer(Int64(reductionFactor)) : .number(reductionFactor)
        }
        var builder = ModelBuilder(seed: seed, hidden: base.hiddenSize, initializerRange: base.config.initializerRange)
        let naming = TensorNaming(family: base.config.family)
        let adapter = builder.bottleneckAdapter(
            name: name, config: config, loaded: nil, layerCount: base.layerCount, trainable: true, naming: naming,
            file: "adapter.safetensors")
        let head = builder.head(name: name, labels: labels, layers: headLayers, loaded: nil, file: "model_head.safetensors")
        let files = LibraryConfigFile(modelName: baseName, base: base.config)
        builder.export.configs["adapter_config.json"] = files.bytes(name: name, config: config.libraryJSON)
        builder.export.configs["head_config.json"] = files.headBytes(name: name, labels: labels, layers: headLayers)
        return make(base: base, builder: builder, sublayers: sublayers(of: adapter), lora: [:], head: head,
                    dropout: dropout(base: base.config, adapter: config.dropout, head: nil))
    }

    /// New LoRA matrices in the `adapters` layout (`LoRAConfig(r, alpha, attn_matrices)`; A kaiming-uniform, B
    /// zero) and a new classification head.
    public static func lora(
        name: String, rank: Int = 8, alpha: Double = 8, attentionMatrices: [String] = ["q", "v"], labels: [String],
        base: BertEncoder, baseName: String, headLayers: Int = 2, seed: UInt64
    ) throws -> TrainableTask {
        try checkNewHead(labels: labels, layers: headLayers)
        let config = try LoRAConfig.adapters(rank: rank, alpha: alpha, attentionMatrices: attentionMatrices)
        return try lora(name: name, config: config, labels: labels, base: base, baseName: baseName, headLayers: headLayers, seed: seed)
    }

    /// New LoRA matrices for any `adapters`-layout `LoRAConfig` (q/k/v, intermediate, output) and a new head.
    public static func lora(
        name: String, config: LoRAConfig, labels: [String], base: BertEncoder, baseName: String, headLayers: Int = 2,
        seed: UInt64
    ) throws -> TrainableTask {
        try checkNewHead(labels: labels, layers: headLayers)
        var builder = ModelBuilder(seed: seed, hidden: base.hiddenSize, initializerRange: base.config.initializerRange)
        let modules = builder.loraModules(
            name: name, config: config, loaded: nil, base: base.config, naming: TensorNaming(family: base.config.family), file: "adapter.safetensors")
        let head = builder.head(name: name, labels: labels, layers: headLayers, loaded: nil, file: "model_head.safetensors")
        let files = LibraryConfigFile(modelName: baseName, base: base.config)
        builder.export.configs["adapter_config.json"] = files.bytes(name: name, config: config.libraryJSON)
        builder.export.configs["head_config.json"] = files.headBytes(name: name, labels: labels, layers: headLayers)
        return make(base: base, builder: builder, sublayers: [:], lora: modules, head: head,
                    dropout: dropout(base: base.config, lora: config.dropout, head: nil))
    }

    /// A new AdapterFusion (`FusionConfig.preset("dynamic")` or `"static"`, or any config) over loaded bottleneck
    /// adapters, in order, and a new head named after the fusion ("a,b"). Query and key start at normal(0, 0.02)
    /// with zero biases, the value at the identity (1e-6 off the diagonal) when `value_initialized`.
    ///
    /// The members stay frozen unless `unfreezeMembers`; then their weights train too, and `exportFiles` adds each
    /// member's folder as `members/NAME/adapter_config.json` and `members/NAME/adapter.safetensors`.
    public static func fusion(
        members: [(name: String, adapter: BottleneckAdapter)], config: FusionConfig, labels: [String],
        base: BertEncoder, baseName: String, unfreezeMembers: Bool = false, headLayers: Int = 2, seed: UInt64
    ) throws -> TrainableTask {
        try checkNewHead(labels: labels, layers: headLayers)
        guard members.count >= 2 else { throw QuiverError(.invalidInput, "a fusion needs at least two adapters") }
        var builder = ModelBuilder(seed: seed, hidden: base.hiddenSize, initializerRange: base.config.initializerRange)
        let files = LibraryConfigFile(modelName: baseName, base: base.config)
        let trainMembers = try fusionMembers(
            members.map { ($0.name, $0.adapter, nil) }, base: base, unfreeze: unfreezeMembers, builder: &builder,
            files: files)
        let fusionName = members.map(\.name).joined(separator: ",")
        let layers = builder.fusionLayers(
            fusionName: fusionName, config: config, members: trainMembers, loaded: nil, naming: TensorNaming(family: base.config.family),
            file: "model_adapter_fusion.safetensors")
        guard !layers.isEmpty else {
            throw QuiverError(.incompatible, "the adapters \(members.map(\.name)) share no site to fuse at")
        }
        let head = builder.head(name: fusionName, labels: labels, layers: headLayers, loaded: nil, file: "model_head.safetensors")
        builder.export.configs["adapter_fusion_config.json"] = files.fusionBytes(adapterNames: members.map(\.name), config: config)
        builder.export.configs["head_config.json"] = files.headBytes(name: fusionName, labels: labels, layers: headLayers)
        let fusion = TrainFusion(name: fusionName, config: config, members: trainMembers, layers: layers)
        return make(base: base, builder: builder, sublayers: layers.mapValues { .fusion(fusion, $0) }, lora: [:],
                    head: head, dropout: dropout(base: base.config, fusion: config.dropoutProbability, head: nil))
    }

    // MARK: - Continuing from saved folders

    /// Continues training a saved adapter: an `adapters`-library folder (bottleneck or LoRA, with its head) or a PEFT
    /// LoRA folder of a sequence classifier (`task_type` SEQ_CLS, whose `classifier` sits on BERT's frozen pooler).
    /// Parameters keep the names of the files, and `exportFiles` writes the same configs back with the new values.
    ///
    /// - Throws: `QuiverError` for a folder without a head (nothing to compute a loss with) or with tensors that
    ///   are not understood.
    ///
    /// A folder with only a head (`head_config.json` + `model_head.safetensors`) trains that head on the frozen base.
    public static func loading(files: [String: [UInt8]], source: String, base: BertEncoder) throws -> TrainableTask {
        var builder = ModelBuilder(seed: 0, hidden: base.hiddenSize)
        builder.export.configs = files.filter { $0.key.hasSuffix(".json") }
        if files["adapter_config.json"] == nil, files["head_config.json"] != nil {
            let task = try TaskModel.headOnly(name: source, files: files, source: source, base: base.config)
            let head = try loadedHead(task, files: files, builder: &builder, source: source)
            try verify(builder.export, against: files, ["model_head.safetensors"], source: source)
            return make(base: base, builder: builder, sublayers: [:], lora: [:], head: head,
                        dropout: dropout(base: base.config, head: task.head?.config.dropoutProbability))
        }
        let task = try TaskModel.adapter(name: source, files: files, source: source, base: base.config, pooler: base.weights.pooler)
        if let peft = try peftParts(files: files, source: source) {
            guard case .adapter(let adapter as LoRAAdapter) = task.composition else { throw QuiverError(.invalidInput, "\(source): not LoRA") }
            let modules = builder.loraModules(
                name: "", config: adapter.config, loaded: adapter, base: base.config,
                naming: TensorNaming(family: base.config.family, prefix: peft.prefix, peft: true), file: "adapter_model.safetensors")
            guard let pooler = base.weights.pooler else {
                throw QuiverError(.incompatible, "\(source): a PEFT sequence classifier needs the base model's pooler, which this checkpoint lacks")
            }
            let classifier = TrainLinear(
                weight: builder.parameter(peft.classifier.weightName, shape: peft.classifier.weightShape, values: peft.classifier.weight, decays: true, file: "adapter_model.safetensors"),
                bias: builder.parameter(peft.classifier.biasName, shape: [peft.classifier.weightShape[0]], values: peft.classifier.bias, decays: false, file: "adapter_model.safetensors"),
                inFeatures: base.hiddenSize, outFeatures: peft.classifier.weightShape[0])
            let head = TrainHead(
                layers: [TrainLinear(frozen: pooler), classifier], dropoutBefore: [false, true], activation: .tanh,
                labels: (0..<classifier.outFeatures).map { "LABEL_\($0)" })
            try passThrough(files, "adapter_model.safetensors", into: &builder, source: source)
            builder.export.tensorFiles["adapter_model.safetensors"]?.metadata = ["format": "pt"]
            let classifierDropout = Float(base.config.classifierDropout ?? base.config.hiddenDropoutProb)
            return make(base: base, builder: builder, sublayers: [:], lora: modules, head: head,
                        dropout: dropout(base: base.config, lora: adapter.config.dropout, head: classifierDropout))
        }
        let names = try adapterNames(files["adapter.safetensors"], source: source)
        let naming = TensorNaming(family: base.config.family, prefix: names.prefix)
        var sublayers: [AdapterSite: SublayerModule] = [:]
        var lora: [LoRASite: TrainLoRAModule] = [:]
        var probabilities = DropoutProbabilities.none
        switch task.composition {
        case .adapter(let loaded as BottleneckAdapter):
            try loaded.config.validate(source: source)
            let adapter = builder.bottleneckAdapter(
                name: names.adapter, config: loaded.config, loaded: loaded, layerCount: base.layerCount, trainable: true,
                naming: naming, file: "adapter.safetensors")
            sublayers = Self.sublayers(of: adapter)
            probabilities.adapter = loaded.config.dropout
        case .adapter(let loaded as LoRAAdapter):
            lora = builder.loraModules(
                name: names.adapter, config: loaded.config, loaded: loaded, base: base.config, naming: naming,
                file: "adapter.safetensors")
            probabilities.lora = loaded.config.dropout
        default:
            throw QuiverError(.unsupported, "\(source): only bottleneck and LoRA adapters train from an adapter folder")
        }
        let head = try loadedHead(task, files: files, builder: &builder, source: source)
        try verify(builder.export, against: files, ["adapter.safetensors", "model_head.safetensors"], source: source)
        return make(base: base, builder: builder, sublayers: sublayers, lora: lora, head: head,
                    dropout: dropout(base: base.config, adapter: probabilities.adapter, lora: probabilities.lora, head: task.head?.config.dropoutProbability))
    }

    /// Continues training a saved fusion (`adapter_fusion_config.json`, `model_adapter_fusion.safetensors` and its
    /// head) over its members' saved folders (in the fusion's order), frozen unless `unfreezeMembers`.
    public static func loadingFusion(
        files: [String: [UInt8]], members memberFiles: [[String: [UInt8]]], source: String, base: BertEncoder,
        unfreezeMembers: Bool = false
    ) throws -> TrainableTask {
        var loadedMembers: [(String, BottleneckAdapter, [String: [UInt8]]?)] = []
        var prefix = "bert."
        for (index, files) in memberFiles.enumerated() {
            let memberSource = "\(source) member \(index + 1)"
            guard case .adapter(let adapter as BottleneckAdapter) = try TaskModel.adapter(name: memberSource, files: files, source: memberSource, base: base.config).composition else {
                throw QuiverError(.invalidInput, "\(memberSource): not a bottleneck adapter")
            }
            let names = try adapterNames(files["adapter.safetensors"], source: memberSource)
            prefix = names.prefix
            loadedMembers.append((names.adapter, adapter, files))
        }
        let task = try TaskModel.fusion(
            name: source, files: files, members: loadedMembers.map(\.1), source: source, base: base.config)
        guard case .fuse(let loaded) = task.composition else { throw QuiverError(.invalidInput, "\(source): not a fusion") }
        var builder = ModelBuilder(seed: 0, hidden: base.hiddenSize)
        builder.export.configs = files.filter { $0.key.hasSuffix(".json") }
        let configFiles = LibraryConfigFile(modelName: "", base: base.config)
        let members = try fusionMembers(
            loadedMembers, base: base, unfreeze: unfreezeMembers, builder: &builder, files: configFiles, prefix: prefix)
        let fusionName = loadedMembers.map(\.0).joined(separator: ",")
        let layers = builder.fusionLayers(
            fusionName: fusionName, config: loaded.config, members: members, loaded: loaded,
            naming: TensorNaming(family: base.config.family, prefix: prefix), file: "model_adapter_fusion.safetensors")
        try passThrough(files, "model_adapter_fusion.safetensors", into: &builder, source: source)
        let head = try loadedHead(task, files: files, builder: &builder, source: source)
        try verify(builder.export, against: files, ["model_adapter_fusion.safetensors", "model_head.safetensors"], source: source)
        let fusion = TrainFusion(name: fusionName, config: loaded.config, members: members, layers: layers)
        return make(base: base, builder: builder, sublayers: layers.mapValues { .fusion(fusion, $0) }, lora: [:],
                    head: head, dropout: dropout(base: base.config, fusion: loaded.config.dropoutProbability, head: task.head?.config.dropoutProbability))
    }

    // MARK: - Pieces

    static func make(
        base: BertEncoder, builder: ModelBuilder, sublayers: [AdapterSite: SublayerModule],
        lora: [LoRASite: TrainLoRAModule], head: TrainHead, dropout: DropoutProbabilities
    ) -> TrainableTask {
        let network = TrainingNetwork(encoder: base, sublayers: sublayers, lora: lora, head: head)
        return TrainableTask(
            encoder: base, network: network, parameters: builder.parameters, dropout: dropout, export: builder.export)
    }

    static func sublayers(of adapter: TrainBottleneckAdapter) -> [AdapterSite: SublayerModule] {
        adapter.modules.mapValues { .bottleneck(adapter, $0) }
    }

    /// The dropout probabilities, as the library chooses them (docs/training.md).
    static func dropout(
        base: BertConfig, adapter: Float = 0, lora: Float = 0, fusion: Float? = nil, head: Float?
    ) -> DropoutProbabilities {
        let hidden = Float(base.hiddenDropoutProb), attention = Float(base.attentionProbsDropoutProb)
        return DropoutProbabilities(
            hidden: hidden, attention: attention, adapter: adapter, lora: lora,
            head: head ?? base.classifierDropout.map(Float.init) ?? hidden, fusion: fusion ?? attention)
    }

    private static func checkNewHead(labels: [String], layers: Int) throws {
        guard labels.count >= 2 else { throw QuiverError(.invalidInput, "a classification head needs at least two labels") }
        guard Set(labels).count == labels.count else { throw QuiverError(.invalidInput, "labels must be distinct") }
        guard layers >= 1 else { throw QuiverError(.invalidInput, "a head needs at least one layer") }
    }

    private static func fusionMembers(
        _ members: [(String, BottleneckAdapter, [String: [UInt8]]?)], base: BertEncoder, unfreeze: Bool,
        builder: inout ModelBuilder, files: LibraryConfigFile, prefix: String = "bert."
    ) throws -> [TrainBottleneckAdapter] {
        var result: [TrainBottleneckAdapter] = []
        for (name, adapter, memberFiles) in members {
            try adapter.config.validate(source: name)
            let file = unfreeze ? "members/\(name)/adapter.safetensors" : nil
            result.append(
                builder.bottleneckAdapter(
                    name: name, config: adapter.config, loaded: adapter, layerCount: base.layerCount,
                    trainable: unfreeze, naming: TensorNaming(family: base.config.family, prefix: prefix), file: file))
            if unfreeze {
                builder.export.configs["members/\(name)/adapter_config.json"] =
                    memberFiles?["adapter_config.json"] ?? files.bytes(name: name, config: adapter.config.libraryJSON)
            }
        }
        return result
    }

    private static func loadedHead(
        _ task: TaskModel, files: [String: [UInt8]], builder: inout ModelBuilder, source: String
    ) throws -> TrainHead {
        guard let loaded = task.head else {
            throw QuiverError(.invalidInput, "\(source): no head (head_config.json + model_head.safetensors) to train")
        }
        let bytes = files["model_head.safetensors"]!
        let header = try SafetensorsFile(bytes: bytes, source: source + "/model_head.safetensors").header
        guard case .head(let name, _, _)? = header.tensors.first.flatMap({ AdapterTensor.parse($0.name) }) else {
            throw QuiverError(.invalidInput, "\(source)/model_head.safetensors: no head tensor")
        }
        return builder.head(name: name, labels: loaded.labels, layers: loaded.layers.count, loaded: loaded, file: "model_head.safetensors")
    }

    /// The model prefix ("bert." or "") and the adapter's name, from a weights file's tensor names.
    private static func adapterNames(_ bytes: [UInt8]?, source: String) throws -> (prefix: String, adapter: String) {
        guard let bytes else { throw QuiverError(.invalidInput, "\(source): missing adapter.safetensors") }
        let header = try SafetensorsFile(bytes: bytes, source: source + "/adapter.safetensors").header
        for tensor in header.tensors {
            let prefix = Self.modelPrefix(of: Substring(tensor.name))
            switch AdapterTensor.parse(tensor.name) {
            case .bottleneck(_, _, let adapter, _)?: return (prefix, adapter)
            case .lora(_, _, let adapter?, _)?: return (prefix, adapter)
            default: continue
            }
        }
        throw QuiverError(.invalidInput, "\(source)/adapter.safetensors: no adapter tensor")
    }

    /// What comes before the layers in a tensor name: the model prefix (`bert.`, `roberta.`…), or "".
    private static func modelPrefix(of name: Substring) -> String {
        guard let (_, spelling, tail) = EncoderFamily.layer(of: name) else { return "" }
        let layers = name.dropLast(tail.count)  // "{prefix}encoder.layer.3."
        let container = layers.range(of: spelling.layerContainer + ".", options: .backwards)!
        return String(name[..<container.lowerBound])
    }

    private struct PEFTClassifier {
        let weightName: String, biasName: String
        let weight: [Float], bias: [Float]
        let weightShape: [Int]
    }

    /// For a PEFT folder: the model prefix of its LoRA names and its classifier (nil for an `adapters` folder).
    private static func peftParts(files: [String: [UInt8]], source: String) throws -> (prefix: String, classifier: PEFTClassifier)? {
        guard let bytes = files["adapter_model.safetensors"] else { return nil }
        let file = try SafetensorsFile(bytes: bytes, source: source + "/adapter_model.safetensors")
        var prefix = ""
        for tensor in file.header.tensors where tensor.name.contains(".lora_A.") {
            let rest = tensor.name.dropFirst("base_model.model.".count)
            prefix = Self.modelPrefix(of: rest)
            break
        }
        let weightName = "base_model.model.classifier.weight", biasName = "base_model.model.classifier.bias"
        guard file.header.tensors.contains(where: { $0.name == weightName }) else {
            throw QuiverError(.invalidInput, "\(source): a PEFT folder without a classifier (task_type SEQ_CLS) has no head to train")
        }
        let shape = try file.info(weightName).shape
        return (prefix, PEFTClassifier(weightName: weightName, biasName: biasName, weight: try file.floats(weightName), bias: try file.floats(biasName), weightShape: shape))
    }

    /// Tensors of `name` in `files` that no module reads, exported unchanged.
    private static func passThrough(_ files: [String: [UInt8]], _ name: String, into builder: inout ModelBuilder, source: String) throws {
        guard let bytes = files[name] else { return }
        let file = try SafetensorsFile(bytes: bytes, source: source + "/" + name)
        let known = Set((builder.export.tensorFiles[name]?.tensors ?? []).flatMap(\.names))
        for tensor in file.header.tensors where !known.contains(tensor.name) {
            builder.export.add(frozen: FloatBuffer(try file.floats(tensor.name)), name: tensor.name, shape: tensor.shape, to: name)
        }
    }

    /// Every tensor of the loaded files is one the model exports, and the other way round.
    private static func verify(_ export: ExportPlan, against files: [String: [UInt8]], _ names: [String], source: String) throws {
        for name in names {
            guard let bytes = files[name] else { continue }
            let file = try SafetensorsFile(bytes: bytes, source: source + "/" + name)
            let expected = Set(file.header.tensors.map(\.name))
            let built = Set((export.tensorFiles[name]?.tensors ?? []).flatMap(\.names))
            if let missing = expected.subtracting(built).sorted().first {
                throw QuiverError(.invalidInput, "\(source)/\(name): tensor '\(missing)' is not one this model trains or keeps")
            }
            if let extra = built.subtracting(expected).sorted().first {
                throw QuiverError(.invalidInput, "\(source)/\(name): lacks tensor '\(extra)'")
            }
        }
    }
}
