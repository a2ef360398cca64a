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
        if artifact.kind == "fusion" {
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
        let manifest = try Manifest.decode(bytes, source: "incoming manifest")
        guard manifest.artifactType != MediaType.baseArtifact else { return [] }
        let config = try decodeConfig(ArtifactConfig.self, configBytes)
        var missing: [Requirement] = []
        if try catalog.baseModel(digest: config.base.digest) == nil, let subject = manifest.subject {
            missing.append(.base(name: config.base.name, digest: config.base.digest, manifestDigest: subject.digest))
        }
        for member in config.members ?? [] where try catalog.artifact(manifestDigest: member.manifestDigest) == nil {
            missing.append(.member(task: member.task, version: member.version, manifestDigest: try Digest(parsing: member.manifestDigest)))
        }
        return missing
    }

    /// The manifest's blobs whose content the registry does not hold yet (the ones to download).
    public func missingBlobs(ofManifest bytes: [UInt8]) throws -> [Descriptor] {
        let manifest = try Manifest.decode(bytes, source: "incoming manifest")
        return try manifest.layers.filter { layer in
            let content = try Manifest.contentOf(layer)
            guard let row = try catalog.blob(contentDigest: content.digest) else { return true }
            return !blobs.contains(try Digest(parsing: row.digest))
        }
    }

    public enum ImportOutcome: Sendable {
        case artifact(PushResult)
        case base(BaseAddResult)
    }

    /// Imports an artifact received from a remote (or pushed to `quiver serve`) through the same checks
    /// as a local import. `stored(layer)` gives the path of each missing layer's stored bytes, as
    /// listed by `missingBlobs`; every byte is verified against the manifest's digests before anything
    /// enters the registry. The base model and fusion members must already be here
    /// (`missingRequirements`).
    ///
    /// - Parameters:
    ///   - task: the repository's task (adapters and fusions); ignored for base models.
    ///   - version: the tag; `latest` or nil takes the version recorded in the config.
    @discardableResult
    public func importArtifact(
        manifest bytes: [UInt8], config configBytes: [UInt8], task: String?, version: String?, force: Bool = false,
        stored: (Descriptor) throws -> String
    ) throws -> ImportOutcome {
        let manifest = try Manifest.decode(bytes, source: "incoming manifest")
        guard Digest.of(configBytes) == manifest.config.digest, configBytes.count == manifest.config.size else {
            throw QuiverError(.corrupt, "config blob \(manifest.config.digest) does not match its digest")
        }
        let temporary = try TemporaryFolder(in: blobs.temporaryDirectory, prefix: "import")
        defer { temporary.remove() }
        let folder = temporary.path
        try materialize(manifest, into: folder, stored: stored)
        switch manifest.artifactType {
        case MediaType.baseArtifact:
            let config = try decodeConfig(BaseConfig.self, configBytes)
            let result = try addBase(folder: folder, name: config.name)
            guard result.base.digest == config.digest else {
                throw QuiverError(.conflict, "base model '\(config.name)' exists here with other weights (\(result.base.digest))")
            }
            return .base(result)
        case MediaType.adapterArtifact, MediaType.fusionArtifact:
            let config = try decodeConfig(ArtifactConfig.self, configBytes)
            let reference = try Reference(task: task ?? config.task, version: version == nil || version == Reference.latest ? config.version : version)
            guard let base = try catalog.baseModel(digest: config.base.digest) else {
                throw QuiverError(.notFound, "base model \(config.base.name) (\(config.base.digest)) is not in the registry; pull it first")
            }
            if manifest.artifactType == MediaType.fusionArtifact {
                let members = try (config.members ?? []).map { member -> Reference in
                    guard let local = try catalog.artifact(manifestDigest: member.manifestDigest) else {
                        throw QuiverError(.notFound, "fusion member \(member.task):\(member.version) (\(member.manifestDigest)) is not in the registry; pull it first")
                    }
                    return try Reference(task: local.task, version: local.version)
                }
                return .artifact(try importFusion(members: members, as: reference, folder: folder, description: config.description, force: force))
            }
            return .artifact(try push(reference, folder: folder, baseName: base.name, description: config.description, force: force, metadata: config.metadata))
        default:
            throw QuiverError(.unsupported, "manifest artifactType \"\(manifest.artifactType)\" is not a Quiver artifact")
        }
    }

    /// Writes the manifest's layers as the files of a folder, each verified against its digests.
    private func materialize(_ manifest: Manifest, into folder: String, stored: (Descriptor) throws -> String) throws {
        for layer in manifest.layers {
            guard let title = layer.annotations?[AnnotationKey.title], Self.isSafeFileName(title) else {
                throw QuiverError(.invalidInput, "layer \(layer.digest) has no usable file name (\(AnnotationKey.title))")
            }
            let content = try Manifest.contentOf(layer)
            let blob: BlobDescriptor
            let path: String
            if let row = try catalog.blob(contentDigest: content.digest), blobs.contains(try Digest(parsing: row.digest)) {
                blob = try row.descriptor()
                path = blobs.path(of: blob.digest)
            } else {
                blob = BlobDescriptor(
                    digest: layer.digest, size: layer.size, contentDigest: content.digest, contentSize: content.size,
                    encoding: MediaType.encoding(ofLayer: layer.mediaType))
                path = try stored(layer)
            }
            let file = try TemporaryFile(in: folder)
            do {
                try blobs.read(blob, at: path) { try file.write($0) }
                try file.commit(to: folder + "/" + title, syncingDirectory: false)
            } catch {
                file.discard()
                throw error
            }
        }
    }

    /// A plain file name: no folder separators, not `.` or `..`.
    static func isSafeFileName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 255 && !name.contains("/") && name != "." && name != ".." && !name.contains("\0")
    }

    private func decodeConfig<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch {
            throw QuiverError(.invalidInput, "config blob is not a Quiver \(T.self) (\(error))")
        }
    }
}
