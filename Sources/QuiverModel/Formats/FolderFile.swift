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

    /// Reads and validates a safetensors file — or a PyTorch `.bin`, converted — naming the file in any error.
    package static func tensors(at path: String, name: String, role: FileRole) throws -> FolderFile {
        guard FileSystem.exists(path) else {
            throw QuiverError(.invalidInput, "missing file \(path)")
        }
        if path.hasSuffix(".bin") {
            throw QuiverError(.unsupported, "\(path): PyTorch .bin files are not read yet")
        }
        do {
            return FolderFile(name: name, role: role, content: .tensors(try SafetensorsFile(path: path)))
        } catch let error as SafetensorsError {
            throw QuiverError(.invalidInput, "invalid safetensors file \(error.description)")
        }
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
        safetensors?.header.tensors.reduce(0) { $0 + $1.elementCount } ?? 0
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
