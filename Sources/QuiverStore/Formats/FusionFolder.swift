import QuiverTensor

/// An AdapterFusion saved by the `adapters` library: `adapter_fusion_config.json` +
/// `model_adapter_fusion.safetensors`, optionally `head_config.json` + `model_head.safetensors`.
public struct FusionFolder: Sendable {
    /// Every file name a fusion folder may hold.
    static let fileNames: Set = ["adapter_fusion_config.json", "model_adapter_fusion.safetensors", "head_config.json", "model_head.safetensors"]

    public var path: String
    public var config: FusionConfig
    /// The member adapter names recorded in the file (names in the training run, not task names).
    public var adapterNames: [String]
    public var files: [FolderFile]
    public var parameters: Int
    public var headParameters: Int
    public var head: HeadConfig?

    public init(path: String) throws {
        guard FileSystem.isDirectory(path) else {
            throw QuiverError(.invalidInput, "\(path): not a folder")
        }
        self.path = path
        let configPath = path + "/adapter_fusion_config.json"
        guard FileSystem.exists(configPath) else {
            throw QuiverError(.invalidInput, "\(path): missing adapter_fusion_config.json (expected a fusion saved by the `adapters` library)")
        }
        let json = try readJSON(configPath, limit: 1 << 20)
        guard let inner = json["config"], inner.objectValue != nil else {
            throw QuiverError(.invalidInput, "\(configPath): missing \"config\" object")
        }
        config = try FusionConfig(json: inner, source: configPath)
        guard let names = json["adapter_names"]?.arrayValue?.compactMap(\.stringValue), names.count >= 2 else {
            throw QuiverError(.invalidInput, "\(configPath): \"adapter_names\" must list at least two adapters")
        }
        adapterNames = names
        let weightsPath = path + "/model_adapter_fusion.safetensors"
        if !FileSystem.exists(weightsPath), FileSystem.exists(path + "/pytorch_model_adapter_fusion.bin") {
            throw QuiverError(.unsupported, "\(path): only pytorch_model_adapter_fusion.bin found; Quiver reads model_adapter_fusion.safetensors (save with use_safetensors=True)")
        }
        let weights = try FolderFile.tensors(at: weightsPath, name: "model_adapter_fusion.safetensors", role: "fusionWeights")
        files = [try FolderFile.bytes(at: configPath, name: "adapter_fusion_config.json", role: "fusionConfig", limit: 1 << 20), weights]
        parameters = weights.parameterCount
        headParameters = 0
        let headConfigPath = path + "/head_config.json"
        let hasHeadWeights = FileSystem.exists(path + "/model_head.safetensors")
        if FileSystem.exists(headConfigPath) != hasHeadWeights {
            throw QuiverError(.invalidInput, "\(path): head_config.json and model_head.safetensors must come together")
        }
        if hasHeadWeights {
            head = try HeadConfig(json: try readJSON(headConfigPath, limit: 1 << 20), source: headConfigPath)
            files.append(try FolderFile.bytes(at: headConfigPath, name: "head_config.json", role: "headConfig", limit: 1 << 20))
            let headWeights = try FolderFile.tensors(at: path + "/model_head.safetensors", name: "model_head.safetensors", role: "headWeights")
            files.append(headWeights)
            headParameters = headWeights.parameterCount
        }
    }

    /// `dynamic`, `static` or `fusion` (other flag combinations).
    public var architecture: String {
        if config == FusionConfig.preset("dynamic") { return "dynamic" }
        if config == FusionConfig.preset("static") { return "static" }
        return "fusion"
    }

    /// Checks every fusion tensor against the base and the members: each fusion location must be a
    /// place where every member has an adapter.
    public func checkCompatibility(with base: BertConfig, baseName: String, memberLocations: [[String: Set<String>]]) throws {
        for file in files {
            guard let tensors = file.safetensors else { continue }
            for tensor in tensors.header.tensors {
                let location = "\(path)/\(file.name): tensor '\(tensor.name)'"
                let parsed = AdapterTensor.parse(tensor.name)
                switch (file.role, parsed) {
                case ("fusionWeights", .fusion(let layer, let site, _, _, _)):
                    if layer >= base.layerCount {
                        throw QuiverError(.incompatible, "\(location) is for layer \(layer), base model '\(baseName)' has \(base.layerCount) layers")
                    }
                    for (index, locations) in memberLocations.enumerated() where !(locations[site.rawValue]?.contains(String(layer)) ?? false) {
                        throw QuiverError(.incompatible, "\(location): member \(index + 1) has no adapter at layer \(layer) \(site.rawValue)")
                    }
                case ("headWeights", .head):
                    break
                default:
                    throw QuiverError(.invalidInput, "\(location) is not a fusion \(file.role == "headWeights" ? "head" : "layer") tensor")
                }
                guard [.f32, .f16, .bf16].contains(tensor.dtype) else {
                    throw QuiverError(.unsupported, "\(location) has dtype \(tensor.dtype.rawValue); expected F32, F16 or BF16")
                }
                if let problem = parsed?.shapeProblem(tensor.shape, base: base) {
                    throw QuiverError(.incompatible, "\(location) does not fit base model '\(baseName)': \(problem)")
                }
            }
        }
    }
}
