import Foundation
import QuiverTensor

/// An adapter folder in one of the ecosystem's layouts:
/// - the `adapters` library: `adapter_config.json` + `adapter.safetensors`, optionally
///   `head_config.json` + `model_head.safetensors`;
/// - PEFT LoRA: `adapter_config.json` (with `peft_type`) + `adapter_model.safetensors`;
/// - Quiver's own export: either of the above plus `quiver.json` (its metadata).
public struct AdapterFolder: Sendable {
    public enum Format: String, Sendable { case adapters, peft }

    public static let exportFileName = "quiver.json"

    /// Every file name an adapter's files may have (besides `quiver.json`, which is metadata, not a file).
    static let fileNames: Set = ["adapter_config.json", "adapter.safetensors", "adapter_model.safetensors", "head_config.json", "model_head.safetensors"]

    public var path: String
    public var format: Format
    /// `seq_bn`, `double_seq_bn`, `bottleneck` or `lora`.
    public var architecture: String
    public var files: [FolderFile]
    public var parameters: Int
    public var headParameters: Int
    public var labels: [String]
    /// `hidden_size` recorded by the `adapters` library, when present.
    public var hiddenSize: Int?
    public var modelType: String?
    /// Metadata of a Quiver export (`quiver.json`), when present.
    public var export: ArtifactConfig?
    /// The typed configuration: exactly one of these is set.
    public var bottleneck: BottleneckConfig?
    public var lora: LoRAConfig?
    public var head: HeadConfig?

    public init(path: String) throws {
        guard FileSystem.isDirectory(path) else {
            throw QuiverError(.invalidInput, "\(path): not a folder")
        }
        self.path = path
        let configPath = path + "/adapter_config.json"
        guard FileSystem.exists(configPath) else {
            throw QuiverError(.invalidInput, "\(path): missing adapter_config.json (expected an `adapters` or PEFT adapter folder)")
        }
        let configFile = try FolderFile.bytes(at: configPath, name: "adapter_config.json", role: "adapterConfig", limit: 1 << 20)
        let config = try readJSON(configPath, limit: 1 << 20)
        guard config.objectValue != nil else {
            throw QuiverError(.invalidInput, "\(configPath): not a JSON object")
        }
        if let peftType = config["peft_type"] {
            format = .peft
            guard peftType.stringValue == "LORA" else {
                throw QuiverError(.unsupported, "\(configPath): unknown architecture: peft_type \(JSONWriter.serialize(peftType)) (supported: LORA)")
            }
            architecture = "lora"
            lora = try LoRAConfig(peftJSON: config, source: configPath)
            let weights = try Self.weightsFile(path, name: "adapter_model.safetensors", legacy: "adapter_model.bin", role: "adapterWeights")
            files = [configFile, weights]
            var adapter = 0, head = 0
            // LoRA matrices are the adapter (PEFT's "dense" also matches the pooler: those count too);
            // anything else is a module saved whole (`modules_to_save`, e.g. a classifier).
            for tensor in weights.safetensors!.header.tensors {
                if tensor.name.contains(".lora_A.") || tensor.name.contains(".lora_B.") { adapter += tensor.elementCount } else { head += tensor.elementCount }
            }
            parameters = adapter
            headParameters = head
            labels = []
            hiddenSize = nil
            modelType = nil
        } else {
            format = .adapters
            guard let inner = config["config"], inner.objectValue != nil else {
                throw QuiverError(.invalidInput, "\(configPath): missing \"config\" object (not an `adapters` library adapter_config.json)")
            }
            switch inner["architecture"]?.stringValue ?? "bottleneck" {
            case "bottleneck":
                bottleneck = try BottleneckConfig(json: inner, source: configPath)
                architecture = bottleneck!.architecture
            case "lora":
                lora = try LoRAConfig(adaptersJSON: inner, source: configPath)
                architecture = "lora"
            case let other:
                throw QuiverError(.unsupported, "\(configPath): unknown architecture \"\(other)\" (supported: bottleneck adapters and lora)")
            }
            hiddenSize = config["hidden_size"]?.intValue
            modelType = config["model_type"]?.stringValue
            let weights = try Self.weightsFile(path, name: "adapter.safetensors", legacy: "pytorch_adapter.bin", role: "adapterWeights")
            files = [configFile, weights]
            parameters = weights.parameterCount
            headParameters = 0
            labels = []
            let headConfigPath = path + "/head_config.json"
            let hasHeadWeights = FileSystem.exists(path + "/model_head.safetensors") || FileSystem.exists(path + "/pytorch_model_head.bin")
            if FileSystem.exists(headConfigPath) != hasHeadWeights {
                throw QuiverError(.invalidInput, "\(path): head_config.json and model_head.safetensors must come together")
            }
            if hasHeadWeights {
                head = try HeadConfig(json: try readJSON(headConfigPath, limit: 1 << 20), source: headConfigPath)
                labels = head!.labels
                files.append(try FolderFile.bytes(at: headConfigPath, name: "head_config.json", role: "headConfig", limit: 1 << 20))
                let head = try Self.weightsFile(path, name: "model_head.safetensors", legacy: "pytorch_model_head.bin", role: "headWeights")
                files.append(head)
                headParameters = head.parameterCount
            }
        }
        let exportPath = path + "/" + Self.exportFileName
        if FileSystem.exists(exportPath) {
            export = try StrictJSON.decode(ArtifactConfig.self, from: try FileSystem.read(exportPath, limit: 1 << 20), source: exportPath, what: "Quiver export")
        }
    }

    // MARK: - Validation against a base model

    /// Checks that every tensor belongs where this architecture puts it and fits `base`.
    public func checkCompatibility(with base: BertConfig, baseName: String) throws {
        if let hiddenSize, hiddenSize != base.hiddenSize {
            throw QuiverError(.incompatible, "\(path): adapter hidden_size \(hiddenSize) does not match base model '\(baseName)' (hidden size \(base.hiddenSize))")
        }
        if let modelType, modelType != base.modelType {
            throw QuiverError(.incompatible, "\(path): adapter was made for model_type \"\(modelType)\", base model '\(baseName)' is \"\(base.modelType)\"")
        }
        for file in files {
            guard let tensors = file.safetensors else { continue }
            for tensor in tensors.header.tensors {
                try check(tensor, in: file, base: base, baseName: baseName)
            }
        }
    }

    private func check(_ tensor: TensorInfo, in file: FolderFile, base: BertConfig, baseName: String) throws {
        let location = "\(path)/\(file.name): tensor '\(tensor.name)'"
        let parsed = AdapterTensor.parse(tensor.name)
        switch (format, file.role, parsed) {
        case (.peft, _, .lora), (.adapters, "headWeights", .head):
            break
        case (.peft, _, _):
            return  // modules_to_save (a classifier…): counted as head parameters, not checked against the encoder
        case (.adapters, _, .bottleneck) where architecture != "lora", (.adapters, _, .lora) where architecture == "lora":
            break
        default:
            throw QuiverError(.invalidInput, "\(location) is not a \(architecture) \(file.role == "headWeights" ? "head" : "adapter") tensor")
        }
        guard [.f32, .f16, .bf16].contains(tensor.dtype) else {
            throw QuiverError(.unsupported, "\(location) has dtype \(tensor.dtype.rawValue); expected F32, F16 or BF16")
        }
        if let layer = parsed?.layer, layer >= base.layerCount {
            throw QuiverError(.incompatible, "\(location) is for layer \(layer), base model '\(baseName)' has \(base.layerCount) layers")
        }
        if let problem = parsed?.shapeProblem(tensor.shape, base: base) {
            throw QuiverError(.incompatible, "\(location) does not fit base model '\(baseName)': \(problem)")
        }
    }

    // MARK: - Config parsing

    private static func weightsFile(_ folder: String, name: String, legacy: String, role: String) throws -> FolderFile {
        let path = folder + "/" + name
        if !FileSystem.exists(path), FileSystem.exists(folder + "/" + legacy) {
            throw QuiverError(.unsupported, "\(folder): only \(legacy) found; Quiver reads \(name) (save with use_safetensors=True)")
        }
        return try FolderFile.tensors(at: path, name: name, role: role)
    }
}
