import QuiverTensor

/// A Hugging Face model folder of a BERT-family encoder: `config.json`, `model.safetensors` and a
/// tokenizer vocabulary (`vocab.txt` and/or `tokenizer.json`, with optional tokenizer configs).
public struct ModelFolder: Sendable {
    public var path: String
    public var config: BertConfig
    public var files: [FolderFile]
    public var weights: SafetensorsFile
    /// Parameters of the encoder (ignored tensors such as `position_ids` not counted).
    public var parameterCount: Int

    static let optionalFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"]

    /// Every file name a base model folder may hold.
    static let fileNames = Set(["config.json", "model.safetensors"] + optionalFiles)

    public init(path: String) throws {
        guard FileSystem.isDirectory(path) else {
            throw QuiverError(.invalidInput, "\(path): not a folder")
        }
        self.path = path
        let configPath = path + "/config.json"
        guard FileSystem.exists(configPath) else {
            throw QuiverError(.invalidInput, "\(path): missing config.json (expected a Hugging Face model folder)")
        }
        config = try BertConfig.load(path: configPath)
        let weightsPath = path + "/model.safetensors"
        guard FileSystem.exists(weightsPath) else {
            if FileSystem.exists(path + "/pytorch_model.bin") {
                throw QuiverError(.unsupported, "\(path): only pytorch_model.bin found; Quiver reads model.safetensors (convert it with the safetensors library)")
            }
            if FileSystem.exists(path + "/model.safetensors.index.json") {
                throw QuiverError(.unsupported, "\(path): sharded checkpoints are not supported; save the model as one model.safetensors")
            }
            throw QuiverError(.invalidInput, "\(path): missing model.safetensors")
        }
        let weightsFile = try FolderFile.tensors(at: weightsPath, name: "model.safetensors", role: "weights")
        weights = weightsFile.safetensors!
        let map = try BertWeightMap(header: weights.header, config: config, source: weightsPath)
        let ignored = Set(map.ignored)
        parameterCount = weights.header.tensors.filter { !ignored.contains($0.name) }.reduce(0) { $0 + $1.elementCount }

        guard FileSystem.exists(path + "/vocab.txt") || FileSystem.exists(path + "/tokenizer.json") else {
            throw QuiverError(.invalidInput, "\(path): missing vocab.txt or tokenizer.json")
        }
        var files = [try FolderFile.bytes(at: configPath, name: "config.json", role: "config", limit: 1 << 20), weightsFile]
        for name in Self.optionalFiles where FileSystem.exists(path + "/" + name) {
            if name.hasSuffix(".json") { _ = try readJSON(path + "/" + name, limit: 64 << 20) }
            files.append(try FolderFile.bytes(at: path + "/" + name, name: name, role: name == "vocab.txt" || name == "tokenizer.json" ? "vocabulary" : "tokenizerConfig"))
        }
        self.files = files
    }
}
