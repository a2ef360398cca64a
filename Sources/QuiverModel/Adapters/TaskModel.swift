import Foundation
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

    /// An adapter from its folder's files by name (`adapters` or PEFT layout); `source` names them in errors. A PEFT
    /// sequence classifier needs the base's `pooler`.
    public static func adapter(name: String, files: [String: [UInt8]], source: String, base: BertConfig, pooler: LinearWeights? = nil) throws -> TaskModel {
        try adapter(name: name, folder: AdapterFolder(files: .memory(files, source: source)), base: base, pooler: pooler)
    }

    /// An adapter already read; refused in one line when this build's engine does not run its kind.
    public static func adapter(name: String, folder: AdapterFolder, base: BertConfig, pooler: LinearWeights? = nil) throws -> TaskModel {
        if let note = folder.engineNote { throw QuiverError(.unsupported, "\(name): \(note)") }
        guard let weights = folder.files.first(where: { $0.role == .adapterWeights })?.safetensors else {
            throw QuiverError(.invalidInput, "\(folder.source): missing adapter weights")
        }
        guard let config = folder.engineConfig else {
            throw QuiverError(.unsupported, "\(name): \(folder.architecture) adapters do not run in this build")
        }
        let composition = Composition.adapter(try config.adapter(weights: weights, base: base))
        var head: ClassificationHead?
        if let config = folder.head, let headWeights = folder.files.first(where: { $0.role == .headWeights })?.safetensors {
            head = try ClassificationHead(config: config, weights: headWeights, hiddenSize: base.hiddenSize)
        } else if let peft = folder.peft, folder.headParameters > 0 {
            head = try ClassificationHead(peftClassifier: weights, peft: peft, pooler: pooler, hiddenSize: base.hiddenSize)
        }
        return TaskModel(name: name, composition: composition, head: head)
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
