import QuiverModel
import Foundation

extension Registry {
    public struct ExportResult: Sendable {
        public var artifact: ArtifactRow
        public var folder: String
        public var files: [String]
    }

    /// Writes a version back out in its folder layout (tensors bit-identical to what was pushed),
    /// plus `quiver.json` with its metadata. Every file is verified before it appears; a file that
    /// already exists with other content is refused unless `force`.
    @discardableResult
    public func export(_ reference: Reference, to folder: String, force: Bool = false) throws -> ExportResult {
        try locked(.shared) {
            let artifact = try resolve(reference)
            try FileSystem.createDirectory(folder)
            let written: [String]
            var outputs: [(FileRow, BlobDescriptor)] = []
            for file in try catalog.artifactFiles(artifact.id!) {
                outputs.append((file, try descriptor(ofBlob: file.blobDigest)))
            }
            let configBytes = try blobs.readAll(try descriptor(ofBlob: artifact.configDigest))
            let exportBytes = try Self.prettyJSON(configBytes)
            written = try write(outputs, extra: (AdapterFolder.exportFileName, exportBytes), to: folder, force: force)
            return ExportResult(artifact: artifact, folder: folder, files: written)
        }
    }

    /// Writes a base model back out as a Hugging Face model folder: config, tokenizer files and the weights as
    /// stored — safetensors, bit-identical tensors to what was added (a `.bin` comes out as the safetensors it was
    /// converted to, shards with their index). Returns the file names written.
    @discardableResult
    public func exportBase(named name: String, to folder: String, force: Bool = false) throws -> [String] {
        try locked(.shared) {
            guard let base = try catalog.baseModel(named: name) else { throw QuiverError(.notFound, "no base model named '\(name)'") }
            try FileSystem.createDirectory(folder)
            let outputs = try catalog.baseModelFiles(base.id!).map { ($0, try descriptor(ofBlob: $0.blobDigest)) }
            return try write(outputs, extra: nil, to: folder, force: force)
        }
    }

    /// Writes stored files (verified as they stream) and an optional small extra file into `folder`, checking every
    /// destination first so that a refusal leaves the folder untouched.
    private func write(_ outputs: [(FileRow, BlobDescriptor)], extra: (name: String, bytes: [UInt8])?, to folder: String, force: Bool) throws -> [String] {
        for (file, blob) in outputs {
            try checkDestination(folder + "/" + file.name, contentDigest: blob.contentDigest, force: force)
        }
        if let extra { try checkDestination(folder + "/" + extra.name, contentDigest: Digest.of(extra.bytes), force: force) }
        var written: [String] = []
        for (file, blob) in outputs {
            let temporary = try TemporaryFile(in: folder)
            do {
                try blobs.read(blob) { try temporary.write($0) }
                try temporary.commit(to: folder + "/" + file.name)
            } catch {
                temporary.discard()
                throw error
            }
            written.append(file.name)
        }
        if let extra {
            try FileSystem.writeAtomically(extra.bytes, to: folder + "/" + extra.name, temporaryDirectory: folder)
            written.append(extra.name)
        }
        return written
    }

    private func checkDestination(_ path: String, contentDigest: Digest, force: Bool) throws {
        guard FileSystem.exists(path), !force else { return }
        guard let size = FileSystem.fileSize(path) else {
            throw QuiverError(.conflict, "\(path) exists and is not a regular file")
        }
        let bytes = try FileSystem.read(path, limit: max(size, 1))
        if Digest.of(bytes) != contentDigest {
            throw QuiverError(.conflict, "\(path) already exists with other content; choose another --output or use --force")
        }
    }

    static func prettyJSON(_ bytes: [UInt8]) throws -> [UInt8] {
        let object = try JSONSerialization.jsonObject(with: Data(bytes))
        var data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        data.append(UInt8(ascii: "\n"))
        return [UInt8](data)
    }
}
