import QuiverTensor

/// One file of a folder being imported, validated and ready to be stored as a blob.
public struct FolderFile: Sendable {
    public enum Content: Sendable {
        /// Small text or JSON, stored as it is.
        case bytes([UInt8])
        /// A validated safetensors file, stored canonically and compressed.
        case tensors(SafetensorsFile)
    }

    /// The file's name in the folder layout.
    public var name: String
    public var role: FileRole
    public var content: Content
    /// Names that repeat an earlier tensor (tied weights of a converted `.bin`): counted once.
    package var tied: Set<String> = []

    /// A tensor file, its tied names (safetensors metadata `quiver.tied`) checked once.
    package static func tensors(name: String, role: FileRole, file: SafetensorsFile) throws -> FolderFile {
        FolderFile(name: name, role: role, content: .tensors(file), tied: try tiedNames(of: file))
    }

    /// Reads and validates a safetensors file — or a PyTorch `.bin`, converted — naming the file in any error.
    package static func tensors(at path: String, name: String, role: FileRole) throws -> FolderFile {
        guard FileSystem.exists(path) else {
            throw QuiverError(.invalidInput, "missing file \(path)")
        }
        if path.hasSuffix(".bin") {
            do {
                let checkpoint = try TorchCheckpoint(path: path)
                var metadata = ["format": "pt"]
                if !checkpoint.aliases.isEmpty { metadata[tiedKey] = JSONWriter.serialize(.object(checkpoint.aliases.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })) }
                return try tensors(name: name, role: role, file: try checkpoint.safetensors(metadata: metadata))
            } catch let error as TorchCheckpointError {
                throw QuiverError(.invalidInput, error.description)
            }
        }
        do {
            return try tensors(name: name, role: role, file: try SafetensorsFile(path: path))
        } catch let error as SafetensorsError {
            throw QuiverError(.invalidInput, "invalid safetensors file \(error.description)")
        }
    }

    /// The safetensors metadata key under which a converted PyTorch file lists its tied names (`{"alias": "first"}`):
    /// both names keep their bytes, counts take them once.
    static let tiedKey = "quiver.tied"

    /// Names that repeat an earlier tensor (tied weights of a converted `.bin`), checked: each names a tensor of the
    /// same dtype, shape and bytes.
    private static func tiedNames(of file: SafetensorsFile) throws -> Set<String> {
        guard let text = file.header.metadata?[tiedKey] else { return [] }
        guard let map = try? JSONParser.parse(Array(text.utf8)).objectValue else {
            throw QuiverError(.invalidInput, "\(file.source): metadata \(tiedKey) is not a JSON object")
        }
        var tied = Set<String>()
        for (alias, value) in map {
            guard let target = value.stringValue, alias != target, let a = file.header.tensor(named: alias), let b = file.header.tensor(named: target),
                a.dtype == b.dtype, a.shape == b.shape,
                file.withBytes(of: a, { x in file.withBytes(of: b) { y in x.elementsEqual(y) } })
            else {
                throw QuiverError(.invalidInput, "\(file.source): metadata \(tiedKey) ties '\(alias)' to a tensor it does not equal")
            }
            tied.insert(alias)
        }
        return tied
    }

    package static func bytes(at path: String, name: String, role: FileRole, limit: Int = 64 << 20) throws -> FolderFile {
        FolderFile(name: name, role: role, content: .bytes(try FileSystem.read(path, limit: limit)))
    }

    package var safetensors: SafetensorsFile? {
        if case .tensors(let file) = content { return file }
        return nil
    }

    /// Element count of every tensor in the file (0 for other files).
    package var parameterCount: Int {
        safetensors?.header.tensors.reduce(0) { tied.contains($1.name) ? $0 : $0 + $1.elementCount } ?? 0
    }
}

/// Reads a JSON file strictly, naming the file in any error.
package func readJSON(_ path: String, limit: Int = 16 << 20) throws -> JSONValue {
    let bytes = try FileSystem.read(path, limit: limit)
    do {
        return try JSONParser.parse(bytes)
    } catch {
        throw QuiverError(.invalidInput, "\(path): invalid JSON: \(error)")
    }
}
