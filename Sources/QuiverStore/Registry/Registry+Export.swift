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
            var written: [String] = []
            var outputs: [(FileRow, BlobDescriptor)] = []
            for file in try catalog.artifactFiles(artifact.id!) {
                outputs.append((file, try descriptor(ofBlob: file.blobDigest)))
            }
            let configBytes = try blobs.readAll(try descriptor(ofBlob: artifact.configDigest))
            let exportBytes = try Self.prettyJSON(configBytes)
            // Check every destination first so a refusal leaves the folder untouched.
            for (file, blob) in outputs {
                try checkDestination(folder + "/" + file.name, contentDigest: blob.contentDigest, force: force)
            }
            try checkDestination(folder + "/" + AdapterFolder.exportFileName, contentDigest: Digest.of(exportBytes), force: force)
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
            try FileSystem.writeAtomically(exportBytes, to: folder + "/" + AdapterFolder.exportFileName, temporaryDirectory: folder)
            written.append(AdapterFolder.exportFileName)
            return ExportResult(artifact: artifact, folder: folder, files: written)
        }
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
