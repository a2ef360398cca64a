import QuiverModel

// Read-only lookups for the layers above the store (the server, the client, the runtime): the catalog itself stays
// inside QuiverStore, so every write goes through a registry operation that keeps its invariants.
extension Registry {
    public func artifact(manifestDigest: String) throws -> ArtifactRow? { try catalog.artifact(manifestDigest: manifestDigest) }

    /// The version `reference` names (its `latest` when it names none), or nil.
    public func artifact(_ reference: Reference) throws -> ArtifactRow? { try catalog.artifact(reference) }

    public func artifacts() throws -> [ArtifactRow] { try catalog.artifacts() }

    public func versions(of task: String) throws -> [ArtifactRow] { try catalog.versions(of: task) }

    public func members(ofFusion id: Int64) throws -> [ArtifactRow] { try catalog.members(ofFusion: id) }

    public func baseModel(named name: String) throws -> BaseModelRow? { try catalog.baseModel(named: name) }

    public func baseModel(id: Int64) throws -> BaseModelRow? { try catalog.baseModel(id: id) }

    /// `TASK:VERSION` or base names of everything that holds the blob.
    public func users(ofBlob digest: String) throws -> [String] { try catalog.users(ofBlob: digest) }

    public func storedBlobs() throws -> [BlobRow] { try catalog.blobs() }
}
