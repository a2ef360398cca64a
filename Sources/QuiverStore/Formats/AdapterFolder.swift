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
            try Self.checkPEFTConfig(config, source: configPath)
            let weights = try Self.weightsFile(path, name: "adapter_model.safetensors", legacy: "adapter_model.bin", role: "adapterWeights")
            files = [configFile, weights]
            var adapter = 0, head = 0
            for tensor in weights.safetensors!.header.tensors {
                if case .lora = AdapterTensor.parse(tensor.name) { adapter += tensor.elementCount } else { head += tensor.elementCount }
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
            architecture = try Self.architecture(of: inner, source: configPath)
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
                let headConfig = try readJSON(headConfigPath, limit: 1 << 20)
                labels = try Self.labels(of: headConfig, source: headConfigPath)
                files.append(try FolderFile.bytes(at: headConfigPath, name: "head_config.json", role: "headConfig", limit: 1 << 20))
                let head = try Self.weightsFile(path, name: "model_head.safetensors", legacy: "pytorch_model_head.bin", role: "headWeights")
                files.append(head)
                headParameters = head.parameterCount
            }
        }
        let exportPath = path + "/" + Self.exportFileName
        if FileSystem.exists(exportPath) {
            do {
                export = try JSONDecoder().decode(ArtifactConfig.self, from: Data(try FileSystem.read(exportPath, limit: 1 << 20)))
            } catch let error as QuiverError {
                throw error
            } catch {
                throw QuiverError(.invalidInput, "\(exportPath): not a Quiver export (\(error))")
            }
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

    /// Names the architecture of an `adapters` config, refusing what Quiver cannot run.
    static func architecture(of config: JSONValue, source: String) throws -> String {
        let architecture = config["architecture"]?.stringValue ?? "bottleneck"
        func flag(_ key: String) -> Bool { config[key]?.boolValue ?? false }
        switch architecture {
        case "bottleneck":
            if flag("is_parallel") { throw QuiverError(.unsupported, "\(source): parallel bottleneck adapters (is_parallel) are not supported") }
            if flag("phm_layer") { throw QuiverError(.unsupported, "\(source): PHM/Compacter adapters (phm_layer) are not supported") }
            if flag("use_gating") { throw QuiverError(.unsupported, "\(source): gated adapters (use_gating) are not supported") }
            if let inv = config["inv_adapter"], !inv.isNull { throw QuiverError(.unsupported, "\(source): invertible adapters (inv_adapter) are not supported") }
            switch (flag("mh_adapter"), flag("output_adapter")) {
            case (true, true): return "double_seq_bn"
            case (false, true): return "seq_bn"
            case (true, false): return "bottleneck"
            case (false, false): throw QuiverError(.invalidInput, "\(source): bottleneck adapter with neither mh_adapter nor output_adapter")
            }
        case "lora":
            if let mode = config["composition_mode"]?.stringValue, mode != "add" {
                throw QuiverError(.unsupported, "\(source): LoRA composition_mode \"\(mode)\" (IA³) is not supported")
            }
            if flag("use_dora") { throw QuiverError(.unsupported, "\(source): DoRA (use_dora) is not supported") }
            if flag("use_gating") { throw QuiverError(.unsupported, "\(source): gated LoRA (use_gating) is not supported") }
            if let vera = config["vera_d"], !vera.isNull { throw QuiverError(.unsupported, "\(source): VeRA is not supported") }
            return "lora"
        default:
            throw QuiverError(.unsupported, "\(source): unknown architecture \"\(architecture)\" (supported: bottleneck adapters and lora)")
        }
    }

    private static func checkPEFTConfig(_ config: JSONValue, source: String) throws {
        guard let rank = config["r"]?.intValue, rank > 0 else {
            throw QuiverError(.invalidInput, "\(source): PEFT LoRA config needs a positive integer \"r\"")
        }
        if config["use_dora"]?.boolValue == true { throw QuiverError(.unsupported, "\(source): DoRA (use_dora) is not supported") }
        if config["fan_in_fan_out"]?.boolValue == true { throw QuiverError(.unsupported, "\(source): fan_in_fan_out LoRA (GPT-2 style) is not supported") }
    }

    /// Label names in id order from an `adapters` head_config.json (`label2id`, else `num_labels`).
    static func labels(of headConfig: JSONValue, source: String) throws -> [String] {
        guard let config = headConfig["config"], config.objectValue != nil else {
            throw QuiverError(.invalidInput, "\(source): missing \"config\" object")
        }
        guard let type = config["head_type"]?.stringValue else {
            throw QuiverError(.invalidInput, "\(source): missing \"head_type\"")
        }
        guard ["classification", "multilabel_classification", "tagging", "regression"].contains(type) else {
            throw QuiverError(.unsupported, "\(source): head_type \"\(type)\" is not supported")
        }
        if let mapping = config["label2id"]?.objectValue {
            var labels = [String?](repeating: nil, count: mapping.count)
            for (label, id) in mapping {
                guard let index = id.intValue, index >= 0, index < mapping.count, labels[index] == nil else {
                    throw QuiverError(.invalidInput, "\(source): label2id must map labels to ids 0..<\(mapping.count) once each")
                }
                labels[index] = label
            }
            return labels.map { $0! }
        }
        let count = config["num_labels"]?.intValue ?? 0
        return (0..<count).map { "LABEL_\($0)" }
    }
}
