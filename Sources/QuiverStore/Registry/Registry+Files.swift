import QuiverModel

extension Registry {
    /// A version's files, verified, by file name: the folder `quiver pull --output` would write, in memory.
    public func files(of artifact: ArtifactRow) throws -> [String: [UInt8]] {
        try locked(.shared) { try storedFiles(of: artifact) }
    }

    /// `files(of:)` for a caller that holds the registry lock.
    func storedFiles(of artifact: ArtifactRow) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for file in try catalog.artifactFiles(artifact.id!) {
            files[file.name] = try blobs.readAll(try descriptor(ofBlob: file.blobDigest))
        }
        return files
    }
}
