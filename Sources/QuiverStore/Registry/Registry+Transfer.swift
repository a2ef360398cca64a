import QuiverModel
import Foundation

/// One OCI artifact of the local registry ready to be sent: its manifest, the blobs it references,
/// and the artifacts it depends on (a base model, a fusion's members), which go first.
public struct OutgoingArtifact: Sendable {
    /// The repository below the namespace: `TASK` for adapters and fusions, `base/NAME` for base models.
    public var repository: String
    /// The tags to set: the version, and `latest` when this is the local latest.
    public var tags: [String]
    public var manifest: [UInt8]
    public var manifestDigest: Digest
    /// The config blob and the layers, as stored locally (their bytes are at `Registry.blobs.path(of:)`).
    public var blobs: [Descriptor]
    public var dependencies: [OutgoingArtifact]
}

extension Registry {
    /// The remote repository of a base model.
    public static func baseRepository(_ name: String) -> String { "base/" + name }

    // MARK: - Outgoing

    /// A version and what it depends on, ready for a remote.
    public func outgoing(_ reference: Reference) throws -> OutgoingArtifact {
        try outgoing(try resolve(reference))
    }

    func outgoing(_ artifact: ArtifactRow) throws -> OutgoingArtifact {
        guard let base = try catalog.baseModel(id: artifact.baseModelId) else {
            throw QuiverError(.corrupt, "\(artifact.task):\(artifact.version) names a base model the catalog does not hold")
        }
        var dependencies = [try outgoing(base: base)]
        if artifact.kind == .fusion {
            dependencies += try catalog.members(ofFusion: artifact.id!).map { try outgoing($0) }
        }
        let latest = try catalog.artifact(Reference(task: artifact.task))
        return try outgoing(
            repository: artifact.task, tags: latest?.id == artifact.id ? [artifact.version, Reference.latest] : [artifact.version],
            manifestDigest: artifact.manifestDigest, dependencies: dependencies)
    }

    func outgoing(base: BaseModelRow) throws -> OutgoingArtifact {
        try outgoing(repository: Self.baseRepository(base.name), tags: [Reference.latest], manifestDigest: base.manifestDigest, dependencies: [])
    }

    private func outgoing(repository: String, tags: [String], manifestDigest: String, dependencies: [OutgoingArtifact]) throws -> OutgoingArtifact {
        let descriptor = try descriptor(ofBlob: manifestDigest)
        let bytes = try blobs.readAll(descriptor)
        let manifest = try Manifest.decode(bytes, source: "manifest \(manifestDigest)")
        return OutgoingArtifact(
            repository: repository, tags: tags, manifest: bytes, manifestDigest: descriptor.digest,
            blobs: [manifest.config] + manifest.layers, dependencies: dependencies)
    }

    // MARK: - Incoming

    /// What an incoming manifest needs before it can be imported.
    public enum Requirement: Sendable, Equatable {
        /// A base model with this weights digest, published as `base/NAME` with this manifest.
        case base(name: String, digest: String, manifestDigest: Digest)
        /// A fusion member, by manifest digest, published in repository `task`.
        case member(task: String, version: String, manifestDigest: Digest)
    }

    /// The base model or fusion members an incoming manifest needs that the registry lacks.
    public func missingRequirements(ofManifest bytes: [UInt8], config configBytes: [UInt8]) throws -> [Requirement] {
        let manifest = try IncomingManifest(bytes, source: "incoming manifest").manifest
        guard manifest.artifactType != MediaType.baseArtifact else { return [] }
        let config = try StrictJSON.decode(ArtifactConfig.self, from: configBytes, source: "config \(manifest.config.digest)", what: "Quiver config")
        var missing: [Requirement] = []
        if try catalog.baseModel(digest: config.base.digest) == nil, let subject = manifest.subject {
            missing.append(.base(name: config.base.name, digest: config.base.digest, manifestDigest: subject.digest))
        }
        for member in config.members ?? [] where try catalog.artifact(manifestDigest: member.manifestDigest) == nil {
            missing.append(.member(task: member.task, version: member.version, manifestDigest: try Digest(parsing: member.manifestDigest)))
        }
        return missing
    }

    /// Checks a manifest received from elsewhere before anything it names is fetched: strict JSON,
    /// a Quiver artifact, the file names of its kind, and the content its layers declare
    /// (`ContentLimits`). Returns it decoded.
    public func checkIncoming(manifest bytes: [UInt8], source: String) throws -> Manifest {
        try IncomingManifest(bytes, source: source).manifest
    }

    /// The manifest's layers the registry does not hold under their stored digest (the ones to
    /// download), after the checks of `checkIncoming`. Content held under another encoding does not
    /// count: the manifest's blob is stored as it is.
    public func missingBlobs(ofManifest bytes: [UInt8]) throws -> [Descriptor] {
        try IncomingManifest(bytes, source: "incoming manifest").layers.filter { layer in
            try catalog.blob(digest: layer.blob.digest.description) == nil || !blobs.contains(layer.blob.digest)
        }.map(\.descriptor)
    }

    /// Imports one artifact received from a remote or pushed to `quiver serve`; see `importArtifacts`.
    /// Its base model and fusion members must already be here (`missingRequirements`).
    ///
    /// - Parameters:
    ///   - task: the repository's task (adapters and fusions); ignored for base models.
    ///   - version: the tag; `latest` or nil take the version recorded in the config, any other must be it.
    @discardableResult
    public func importArtifact(
        manifest bytes: [UInt8], config configBytes: [UInt8], task: String?, version: String?, force: Bool = false,
        takingReceived: Bool = false, stored: (Descriptor) throws -> String
    ) throws -> ImportOutcome {
        let manifest = try IncomingManifest(bytes, source: "incoming manifest")
        let artifact = IncomingArtifact(manifest: bytes, config: configBytes, task: manifest.kind == .base ? nil : task, tag: version)
        return try importArtifacts([artifact], force: force, takingReceived: takingReceived, stored: stored)[0].get()
    }
}
