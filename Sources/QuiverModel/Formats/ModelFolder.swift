import QuiverTensor

/// A Hugging Face transformers model folder of any family: `config.json`, the weights in one of four layouts,
/// and whatever tokenizer files it has.
///
/// Weights: `model.safetensors`; shards named by `model.safetensors.index.json`; `pytorch_model.bin`; or shards
/// named by `pytorch_model.bin.index.json`. PyTorch files are read by the restricted unpickler and kept as
/// safetensors under the matching name (`pytorch_model-00001-of-00002.bin` → `model-00001-of-00002.safetensors`),
/// with a rewritten index: same names, dtypes, shapes and bytes.
public struct ModelFolder: Sendable {
    public var path: String
    public var config: ModelConfig
    /// The encoder's configuration when the family is BERT (checked against the weights).
    public var bert: BertConfig?
    public var files: [FolderFile]
    /// Every tensor of the weights, by name (across shards).
    public var tensors: [String: TensorInfo]
    /// Elements of every tensor the files hold, buffers (`position_ids`, rotary `inv_freq`…) not counted.
    public var parameterCount: Int
    /// The weights' dtypes, e.g. `BF16` or `F16+F32`.
    public var dtype: String
    /// Nil when this build's engine runs the model, else why not.
    public var engineNote: String?

    static let tokenizerFiles: [(name: String, role: FileRole)] = [
        ("tokenizer.json", .vocabulary), ("vocab.txt", .vocabulary), ("vocab.json", .vocabulary), ("merges.txt", .vocabulary),
        ("sentencepiece.bpe.model", .vocabulary), ("spiece.model", .vocabulary), ("tokenizer.model", .vocabulary),
        ("tokenizer_config.json", .tokenizerConfig), ("special_tokens_map.json", .tokenizerConfig), ("added_tokens.json", .tokenizerConfig),
    ]

    /// Whether `name` can be a file of a stored base model (a pulled manifest's layers are checked with it).
    package static func isFileName(_ name: String) -> Bool {
        ["config.json", "model.safetensors", ShardIndex.safetensorsName].contains(name) || tokenizerFiles.contains { $0.name == name }
            || ShardIndex.isShardName(name, fileExtension: "safetensors")
    }

    public init(path: String) throws {
        guard FileSystem.isDirectory(path) else {
            throw QuiverError(.invalidInput, "\(path): not a folder")
        }
        self.path = path
        let configPath = path + "/config.json"
        guard FileSystem.exists(configPath) else {
            throw QuiverError(.invalidInput, "\(path): missing config.json (expected a Hugging Face model folder)")
        }
        let configJSON = try readJSON(configPath, limit: 1 << 20)
        config = try ModelConfig(json: configJSON, source: configPath)
        var files = [try FolderFile.bytes(at: configPath, name: "config.json", role: .config, limit: 1 << 20)]
        let weights = try Self.weightFiles(path)
        files += weights
        var tensors: [String: TensorInfo] = [:]
        for file in weights {
            for tensor in file.safetensors?.header.tensors ?? [] {
                guard tensors.updateValue(tensor, forKey: tensor.name) == nil else {
                    throw QuiverError(.invalidInput, "\(path)/\(file.name): tensor '\(tensor.name)' is also in another shard")
                }
            }
        }
        self.tensors = tensors
        for (name, role) in Self.tokenizerFiles where FileSystem.exists(path + "/" + name) {
            if name.hasSuffix(".json") { _ = try readJSON(path + "/" + name, limit: 64 << 20) }
            files.append(try FolderFile.bytes(at: path + "/" + name, name: name, role: role))
        }
        self.files = files

        var ignored = Set(tensors.keys.filter(Self.isBuffer))
        for file in weights { ignored.formUnion(file.tied) }
        engineNote = config.architecture.engineNote
        if let family = EncoderFamily(config.architecture) {
            let bert = try BertConfig(json: configJSON, source: configPath)
            self.bert = bert
            if weights.count == 1, let header = weights[0].safetensors?.header {
                ignored.formUnion(try BertWeightMap(header: header, config: bert, source: "\(path)/\(weights[0].name)").ignored)
            } else {
                engineNote = "\(family.rawValue): sharded weights are stored and distributed; this build's engine loads one model.safetensors"
            }
            if engineNote == nil { engineNote = Self.tokenizerNote(files, config: bert, path: path) }
        }
        parameterCount = tensors.values.reduce(0) { ignored.contains($1.name) ? $0 : $0 + $1.elementCount }
        let dtypes = Set(tensors.values.map(\.dtype))
        let floating = dtypes.filter(\.isFloatingPoint)
        dtype = (floating.isEmpty ? dtypes : floating).map(\.rawValue).sorted().joined(separator: "+")
    }

    /// Why this build cannot tokenize for the model (no tokenizer, one it does not load, more ids than embeddings), or
    /// nil when it can: the base is stored either way.
    private static func tokenizerNote(_ files: [FolderFile], config: BertConfig, path: String) -> String? {
        var contents: [String: [UInt8]] = [:]
        for file in files { if case .bytes(let bytes) = file.content { contents[file.name] = bytes } }
        do {
            let tokenizer = try Tokenizers.load(files: contents, source: path)
            guard tokenizer.idCount <= config.vocabSize else {
                return "\(config.modelType): the tokenizer has \(tokenizer.idCount) tokens but the model only \(config.vocabSize) word embeddings"
            }
            return nil
        } catch {
            return "\(config.modelType): its tokenizer does not load in this build: \(error)"
        }
    }

    /// Buffers saved beside the parameters by some families: not learned, not counted.
    static func isBuffer(_ name: String) -> Bool {
        name.hasSuffix("position_ids") || name.hasSuffix("rotary_emb.inv_freq") || name.hasSuffix(".attn.masked_bias")
            || (name.hasSuffix(".attn.bias") && name.contains(".h."))
    }

    /// The weights in whichever layout the folder has, as safetensors files.
    private static func weightFiles(_ path: String) throws -> [FolderFile] {
        if FileSystem.exists(path + "/" + ShardIndex.safetensorsName) {
            return try ShardIndex(folder: path, name: ShardIndex.safetensorsName).files()
        }
        if FileSystem.exists(path + "/model.safetensors") {
            return [try FolderFile.tensors(at: path + "/model.safetensors", name: "model.safetensors", role: .weights)]
        }
        if FileSystem.exists(path + "/" + ShardIndex.pytorchName) {
            return try ShardIndex(folder: path, name: ShardIndex.pytorchName).files()
        }
        if FileSystem.exists(path + "/pytorch_model.bin") {
            return [try FolderFile.tensors(at: path + "/pytorch_model.bin", name: "model.safetensors", role: .weights)]
        }
        throw QuiverError(.invalidInput, "\(path): no weights (model.safetensors, model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json)")
    }
}

/// A sharded checkpoint's index (`model.safetensors.index.json`, `pytorch_model.bin.index.json`): which shard
/// holds each tensor. Every shard it names must exist and hold exactly the tensors it assigns there; no shard
/// file may lie beside them unnamed.
struct ShardIndex {
    static let safetensorsName = "model.safetensors.index.json"
    static let pytorchName = "pytorch_model.bin.index.json"

    let folder: String
    let name: String
    /// Shard file name → the tensors the index puts in it.
    let shards: [String: Set<String>]
    let metadata: JSONValue?

    init(folder: String, name: String) throws {
        self.folder = folder
        self.name = name
        let source = folder + "/" + name
        let json = try readJSON(source, limit: 64 << 20)
        guard let map = json["weight_map"]?.objectValue else {
            throw QuiverError(.invalidInput, "\(source): missing \"weight_map\" object")
        }
        let fileExtension = name == Self.safetensorsName ? "safetensors" : "bin"
        var shards: [String: Set<String>] = [:]
        for (tensor, value) in map {
            guard let file = value.stringValue, !file.contains("/"), file.hasSuffix("." + fileExtension), file != "." + fileExtension else {
                throw QuiverError(.invalidInput, "\(source): tensor '\(tensor)' names \(JSONWriter.serialize(value)), not a .\(fileExtension) file of this folder")
            }
            shards[file, default: []].insert(tensor)
        }
        guard !shards.isEmpty else { throw QuiverError(.invalidInput, "\(source): \"weight_map\" is empty") }
        for file in shards.keys.sorted() where !FileSystem.exists(folder + "/" + file) {
            throw QuiverError(.invalidInput, "\(source) names \(file), which is not in the folder")
        }
        for file in FileSystem.contentsOfDirectory(folder).sorted()
        where Self.isShardName(file, fileExtension: fileExtension) && shards[file] == nil {
            throw QuiverError(.invalidInput, "\(folder)/\(file) is a shard the index \(name) does not name")
        }
        self.shards = shards
        metadata = json["metadata"]
    }

    /// `model-00001-of-00003.safetensors`, `pytorch_model-00001-of-00003.bin`…
    static func isShardName(_ name: String, fileExtension: String) -> Bool {
        let stem = fileExtension == "safetensors" ? "model" : "pytorch_model"
        return name.wholeMatch(of: /([a-z_]+)-\d+-of-\d+\.([a-z]+)/).map { $0.1 == stem && $0.2 == fileExtension } ?? false
    }

    /// The shards, checked against the index, then the index itself (rewritten for renamed PyTorch shards).
    func files() throws -> [FolderFile] {
        var files: [FolderFile] = []
        var renamed: [String: String] = [:]
        for shard in shards.keys.sorted() {
            let storedName = Self.storedName(ofShard: shard)
            renamed[shard] = storedName
            let file = try FolderFile.tensors(at: folder + "/" + shard, name: storedName, role: .weights)
            let held = Set(file.safetensors!.header.tensors.map(\.name))
            let expected = shards[shard]!
            if let stray = held.subtracting(expected).sorted().first {
                throw QuiverError(.invalidInput, "\(folder)/\(shard): tensor '\(stray)' is not assigned to this shard by \(name)")
            }
            if let missing = expected.subtracting(held).sorted().first {
                throw QuiverError(.invalidInput, "\(folder)/\(name) puts tensor '\(missing)' in \(shard), which does not hold it")
            }
            files.append(file)
        }
        if name == Self.safetensorsName {
            files.append(try FolderFile.bytes(at: folder + "/" + name, name: name, role: .weightsIndex))
        } else {
            var weightMap: [(String, JSONValue)] = []
            for (shard, tensors) in shards {
                for tensor in tensors { weightMap.append((tensor, .string(renamed[shard]!))) }
            }
            weightMap.sort { $0.0 < $1.0 }
            var index: [(String, JSONValue)] = []
            if let metadata { index.append(("metadata", metadata)) }
            index.append(("weight_map", .object(weightMap)))
            files.append(FolderFile(name: Self.safetensorsName, role: .weightsIndex, content: .bytes(Array(PythonJSON.pretty(.object(index)).utf8))))
        }
        return files
    }

    /// The name a shard is stored under: PyTorch shards become safetensors of the same number.
    static func storedName(ofShard shard: String) -> String {
        guard shard.hasSuffix(".bin") else { return shard }
        let stem = shard.dropLast(".bin".count)
        return (stem.hasPrefix("pytorch_model") ? "model" + stem.dropFirst("pytorch_model".count) : stem) + ".safetensors"
    }
}
