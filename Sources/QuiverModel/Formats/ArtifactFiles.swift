import QuiverTensor

/// The files of an artifact by name — a folder on disk, or the verified blobs of a stored version held in memory —
/// so that one parser reads both (push, pull, training export, the server and the engine alike).
public struct ArtifactFiles: Sendable {
    enum Storage: Sendable {
        case folder(String)
        case memory([String: [UInt8]])
    }

    let storage: Storage
    /// What error messages call the files' location (a path, or `TASK:VERSION`).
    public let source: String

    public static func folder(_ path: String) throws -> ArtifactFiles {
        guard FileSystem.isDirectory(path) else { throw QuiverError(.invalidInput, "\(path): not a folder") }
        return ArtifactFiles(storage: .folder(path), source: path)
    }

    public static func memory(_ files: [String: [UInt8]], source: String) -> ArtifactFiles {
        ArtifactFiles(storage: .memory(files), source: source)
    }

    public func exists(_ name: String) -> Bool {
        switch storage {
        case .folder(let path): FileSystem.exists(path + "/" + name)
        case .memory(let files): files[name] != nil
        }
    }

    /// `source/name`, for messages.
    public func location(_ name: String) -> String { source + "/" + name }

    /// A small file's bytes, as a file to store under `name`.
    func bytes(_ name: String, role: FileRole, limit: Int = 64 << 20) throws -> FolderFile {
        FolderFile(name: name, role: role, content: .bytes(try read(name, limit: limit)))
    }

    func read(_ name: String, limit: Int) throws -> [UInt8] {
        switch storage {
        case .folder(let path):
            return try FileSystem.read(path + "/" + name, limit: limit)
        case .memory(let files):
            guard let bytes = files[name] else { throw QuiverError(.invalidInput, "\(location(name)): no such file") }
            guard bytes.count <= limit else {
                throw QuiverError(.invalidInput, "\(location(name)): \(bytes.count) bytes is over the \(limit)-byte limit for this kind of file")
            }
            return bytes
        }
    }

    func json(_ name: String, limit: Int = 1 << 20) throws -> JSONValue {
        let bytes = try read(name, limit: limit)
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw QuiverError(.invalidInput, "\(location(name)): invalid JSON: \(error)")
        }
    }

    /// The head an `adapters`-library folder may hold: `head_config.json` with `model_head.safetensors` (or
    /// `pytorch_model_head.bin`), both or neither.
    func head() throws -> (json: JSONValue, config: FolderFile, weights: FolderFile)? {
        let hasWeights = exists("model_head.safetensors") || exists("pytorch_model_head.bin")
        guard exists("head_config.json") == hasWeights else {
            throw QuiverError(.invalidInput, "\(source): head_config.json and model_head.safetensors must come together")
        }
        guard hasWeights else { return nil }
        return (
            try json("head_config.json"), try bytes("head_config.json", role: .headConfig, limit: 1 << 20),
            try tensors("model_head.safetensors", legacy: "pytorch_model_head.bin", role: .headWeights)
        )
    }

    /// A tensor file: `name` as safetensors, else `legacy` (a PyTorch `.bin`, converted), stored as `name`.
    func tensors(_ name: String, legacy: String? = nil, role: FileRole) throws -> FolderFile {
        let found = exists(name) ? name : legacy.flatMap { exists($0) ? $0 : nil }
        guard let found else { throw QuiverError(.invalidInput, "\(source): missing \(name)\(legacy.map { " (or \($0))" } ?? "")") }
        switch storage {
        case .folder(let path):
            return try FolderFile.tensors(at: path + "/" + found, name: name, role: role)
        case .memory(let files):
            guard found == name else { throw QuiverError(.corrupt, "\(location(found)): a stored version holds only safetensors") }
            do {
                return try FolderFile.tensors(name: name, role: role, file: try SafetensorsFile(bytes: files[name]!, source: location(name)))
            } catch let error as SafetensorsError {
                throw QuiverError(.invalidInput, "invalid safetensors file \(error.description)")
            }
        }
    }
}
