import Foundation
import QuiverStore
import QuiverTensor

/// A task ready to run on its base model: the composition of adapters it needs and its head.
public struct TaskModel: Sendable {
    /// `TASK:VERSION`, or the folder's name.
    public let name: String
    public let composition: Composition
    public let head: ClassificationHead?

    public init(name: String, composition: Composition, head: ClassificationHead?) {
        self.name = name
        self.composition = composition
        self.head = head
    }

    public var labels: [String] { head?.labels ?? [] }

    // MARK: - From files

    /// An adapter from its folder's files by name (`adapters` or PEFT layout); `source` names them in errors.
    public static func adapter(name: String, files: [String: [UInt8]], source: String, base: BertConfig) throws -> TaskModel {
        guard let configBytes = files["adapter_config.json"] else {
            throw QuiverError(.invalidInput, "\(source): missing adapter_config.json")
        }
        let configPath = source + "/adapter_config.json"
        let json = try parseJSON(configBytes, source: configPath)
        let composition: Composition
        if json["peft_type"] != nil {
            let config = try LoRAConfig(peftJSON: json, source: configPath)
            let weights = try tensors(files, "adapter_model.safetensors", source: source)
            composition = .lora(try LoRAAdapter(config: config, weights: weights, base: base))
        } else {
            guard let inner = json["config"] else { throw QuiverError(.invalidInput, "\(configPath): missing \"config\" object") }
            let weights = try tensors(files, "adapter.safetensors", source: source)
            switch inner["architecture"]?.stringValue ?? "bottleneck" {
            case "bottleneck":
                let config = try BottleneckConfig(json: inner, source: configPath)
                composition = .bottleneck(try BottleneckAdapter(config: config, weights: weights, hiddenSize: base.hiddenSize))
            case "lora":
                let config = try LoRAConfig(adaptersJSON: inner, source: configPath)
                composition = .lora(try LoRAAdapter(config: config, weights: weights, base: base))
            case let other:
                throw QuiverError(.unsupported, "\(configPath): unknown architecture \"\(other)\"")
            }
        }
        return TaskModel(name: name, composition: composition, head: try head(files, source: source, base: base))
    }

    /// A head on the base model alone, from a folder holding only `head_config.json` and `model_head.safetensors`.
    public static func headOnly(name: String, files: [String: [UInt8]], source: String, base: BertConfig) throws -> TaskModel {
        guard let head = try head(files, source: source, base: base) else {
            throw QuiverError(.invalidInput, "\(source): missing head_config.json")
        }
        return TaskModel(name: name, composition: .base, head: head)
    }

    /// A fusion from its folder's files, over member adapters already loaded (in the fusion's order).
    public static func fusion(
        name: String, files: [String: [UInt8]], members: [BottleneckAdapter], source: String, base: BertConfig
    ) throws -> TaskModel {
        guard let configBytes = files["adapter_fusion_config.json"] else {
            throw QuiverError(.invalidInput, "\(source): missing adapter_fusion_config.json")
        }
        let configPath = source + "/adapter_fusion_config.json"
        let json = try parseJSON(configBytes, source: configPath)
        guard let inner = json["config"] else { throw QuiverError(.invalidInput, "\(configPath): missing \"config\" object") }
        let config = try FusionConfig(json: inner, source: configPath)
        let weights = try tensors(files, "model_adapter_fusion.safetensors", source: source)
        let fusion = try Fusion(config: config, members: members, weights: weights, hiddenSize: base.hiddenSize)
        return TaskModel(name: name, composition: .fuse(fusion), head: try head(files, source: source, base: base))
    }

    /// Reads every file of a folder (for adapters and fusions that are not in a registry).
    public static func folderFiles(_ path: String) throws -> [String: [UInt8]] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else {
            throw QuiverError(.invalidInput, "\(path): not a folder")
        }
        var files: [String: [UInt8]] = [:]
        for name in names where name.hasSuffix(".json") || name.hasSuffix(".safetensors") {
            guard let data = FileManager.default.contents(atPath: path + "/" + name) else {
                throw QuiverError(.io, "\(path)/\(name): cannot read")
            }
            files[name] = [UInt8](data)
        }
        return files
    }

    // MARK: - Pieces

    private static func head(_ files: [String: [UInt8]], source: String, base: BertConfig) throws -> ClassificationHead? {
        guard let configBytes = files["head_config.json"] else { return nil }
        let config = try HeadConfig(json: try parseJSON(configBytes, source: source + "/head_config.json"), source: source + "/head_config.json")
        return try ClassificationHead(config: config, weights: try tensors(files, "model_head.safetensors", source: source), hiddenSize: base.hiddenSize)
    }

    private static func tensors(_ files: [String: [UInt8]], _ name: String, source: String) throws -> SafetensorsFile {
        guard let bytes = files[name] else { throw QuiverError(.invalidInput, "\(source): missing \(name)") }
        do {
            return try SafetensorsFile(bytes: bytes, source: source + "/" + name)
        } catch let error as SafetensorsError {
            throw QuiverError(.invalidInput, "invalid safetensors file \(error.description)")
        }
    }

    private static func parseJSON(_ bytes: [UInt8], source: String) throws -> QuiverTensor.JSONValue {
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw QuiverError(.invalidInput, "\(source): invalid JSON: \(error)")
        }
    }
}

extension Registry {
    /// Loads an adapter or fusion version (with a fusion's members, by digest) for `base`.
    public func loadTask(_ reference: Reference, base: BertConfig) throws -> TaskModel {
        let artifact = try resolve(reference)
        return try loadTask(artifact, base: base)
    }

    func loadTask(_ artifact: ArtifactRow, base: BertConfig) throws -> TaskModel {
        let name = "\(artifact.task):\(artifact.version)"
        let files = try files(of: artifact)
        guard artifact.kind == "fusion" else {
            return try TaskModel.adapter(name: name, files: files, source: name, base: base)
        }
        let members = try catalog.members(ofFusion: artifact.id!).map { member -> BottleneckAdapter in
            guard case .bottleneck(let adapter) = try loadTask(member, base: base).composition else {
                throw QuiverError(.corrupt, "\(name): member \(member.task):\(member.version) is not a bottleneck adapter")
            }
            return adapter
        }
        return try TaskModel.fusion(name: name, files: files, members: members, source: name, base: base)
    }
}

extension Registry {
    /// The base model the tasks were trained on and the tasks themselves, ready to run together.
    ///
    /// - Throws: `QuiverError(.incompatible)` when the tasks belong to different base models.
    public func loadTasks(_ references: [Reference]) throws -> (base: BaseModel, tasks: [TaskModel]) {
        let artifacts = try references.map { try resolve($0) }
        guard let first = artifacts.first else { throw QuiverError(.invalidInput, "no task given") }
        guard let baseRow = try catalog.baseModel(id: first.baseModelId) else {
            throw QuiverError(.corrupt, "\(first.task):\(first.version) names a base model the catalog does not hold")
        }
        for artifact in artifacts where artifact.baseModelId != first.baseModelId {
            let other = try catalog.baseModel(id: artifact.baseModelId)?.name ?? "?"
            throw QuiverError(.incompatible, "\(artifact.task):\(artifact.version) belongs to base model '\(other)', \(first.task):\(first.version) to '\(baseRow.name)'; tasks run together must share one base")
        }
        let base = try BaseModel(registry: self, base: baseRow.name)
        return (base, try artifacts.map { try loadTask($0, base: base.config) })
    }
}
