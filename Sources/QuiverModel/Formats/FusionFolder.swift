import QuiverTensor

/// An AdapterFusion saved by the `adapters` library: `adapter_fusion_config.json` +
/// `model_adapter_fusion.safetensors`, optionally `head_config.json` + `model_head.safetensors`.
public struct FusionFolder: Sendable {
    /// Every file name a fusion folder may hold.
    package static let fileNames: Set = ["adapter_fusion_config.json", "model_adapter_fusion.safetensors", "head_config.json", "model_head.safetensors"]

    public var source: String
    public var config: FusionConfig
    /// The member adapter names recorded in the file (names in the training run, not task names).
    public var adapterNames: [String]
    public var files: [FolderFile]
    public var parameters: Int
    public var headParameters: Int
    public var head: HeadConfig?

    public init(path: String) throws {
        try self.init(files: .folder(path))
    }

    public init(files: ArtifactFiles) throws {
        source = files.source
        guard files.exists("adapter_fusion_config.json") else {
            throw QuiverError(.invalidInput, "\(source): missing adapter_fusion_config.json (expected a fusion saved by the `adapters` library)")
        }
        let configPath = files.location("adapter_fusion_config.json")
        let json = try files.json("adapter_fusion_config.json")
        guard let inner = json["config"], inner.objectValue != nil else {
            throw QuiverError(.invalidInput, "\(configPath): missing \"config\" object")
        }
        config = try FusionConfig(json: inner, source: configPath)
        guard let names = json["adapter_names"]?.arrayValue?.compactMap(\.stringValue), names.count >= 2 else {
            throw QuiverError(.invalidInput, "\(configPath): \"adapter_names\" must list at least two adapters")
        }
        adapterNames = names
        let weights = try files.tensors("model_adapter_fusion.safetensors", legacy: "pytorch_model_adapter_fusion.bin", role: .fusionWeights)
        self.files = [try files.bytes("adapter_fusion_config.json", role: .fusionConfig, limit: 1 << 20), weights]
        parameters = weights.parameterCount
        headParameters = 0
        if let saved = try files.head() {
            head = try HeadConfig(json: saved.json, source: files.location("head_config.json"))
            self.files += [saved.config, saved.weights]
            headParameters = saved.weights.parameterCount
        }
    }

    /// `dynamic`, `static` or `fusion` (other flag combinations).
    public var architecture: AdapterKind {
        if config == FusionConfig.preset("dynamic") { return .fusionDynamic }
        if config == FusionConfig.preset("static") { return .fusionStatic }
        return .fusion
    }

    /// Checks every fusion tensor against the base and the members: each fusion location must be a
    /// place where every member has an adapter.
    public func checkCompatibility(with base: BaseShapes, baseName: String, memberLocations: [[String: Set<String>]]) throws {
        for file in files {
            guard let tensors = file.safetensors else { continue }
            for tensor in tensors.header.tensors {
                let location = "\(source)/\(file.name): tensor '\(tensor.name)'"
                let parsed = AdapterTensor.parse(tensor.name)
                switch (file.role, parsed) {
                case (.fusionWeights, .fusion(let layer, let site, _, _, _)):
                    if layer >= base.config.layerCount {
                        throw QuiverError(.incompatible, "\(location) is for layer \(layer), base model '\(baseName)' has \(base.config.layerCount) layers")
                    }
                    for (index, locations) in memberLocations.enumerated() where !(locations[site.rawValue]?.contains(String(layer)) ?? false) {
                        throw QuiverError(.incompatible, "\(location): member \(index + 1) has no adapter at layer \(layer) \(site.rawValue)")
                    }
                case (.headWeights, .head):
                    break
                default:
                    throw QuiverError(.invalidInput, "\(location) is not a fusion \(file.role == .headWeights ? "head" : "layer") tensor")
                }
                guard [.f32, .f16, .bf16].contains(tensor.dtype) else {
                    throw QuiverError(.unsupported, "\(location) has dtype \(tensor.dtype.rawValue); expected F32, F16 or BF16")
                }
                if let problem = parsed?.shapeProblem(tensor.shape, hidden: base.config.hiddenSize) {
                    throw QuiverError(.incompatible, "\(location) does not fit base model '\(baseName)': \(problem)")
                }
            }
        }
    }
}
