import Foundation
import QuiverModel
import QuiverStore

/// Takes a pushed manifest into the registry: checks that it fits its repository, that its config
/// and layers have been uploaded (or are already here) and that what it depends on (the base
/// model, a fusion's members) is on the server, then imports it with `Registry.importArtifact`,
/// which verifies every byte and runs the checks of a local push.
struct ManifestReceiver: Sendable {
    let registry: Registry
    let uploads: UploadStore
    let coalescer: ImportCoalescer

    /// Largest config blob read into memory.
    static let configLimit = 4 << 20

    /// Imports the manifest; returns the digest it is stored under.
    func receive(_ bytes: [UInt8], repository: RepositoryName, reference: ManifestReference) async throws -> Digest {
        if case .digest(let expected) = reference, Digest.of(bytes) != expected {
            throw RegistryError(.digestInvalid, "manifest hashes to \(Digest.of(bytes)), not \(expected)", detail: ["digest": expected.description])
        }
        let manifest: Manifest
        do {
            manifest = try Manifest.decode(bytes, source: "manifest for \(repository)")
        } catch let error as QuiverError {
            throw RegistryError(.manifestInvalid, error.message)
        }
        let task = try checkFits(manifest, repository: repository, reference: reference)
        let key = "\(repository):\(reference)@\(Digest.of(bytes))"
        let receiver = self
        return try await coalescer.run(key: key) {
            // Catalog queries, the registry lock and the import itself block: off the cooperative threads.
            try await BlockingWork.run(.locking) {
                if let stored = try receiver.alreadyStored(Digest.of(bytes), repository: repository, reference: reference) { return stored }
                return try receiver.importNew(bytes, manifest: manifest, task: task, repository: repository, reference: reference)
            }
        }
    }

    /// The digest of a manifest the registry already holds under that repository and tag: pushing
    /// it again changes nothing.
    private func alreadyStored(_ digest: Digest, repository: RepositoryName, reference: ManifestReference) throws -> Digest? {
        switch repository.content {
        case .task(let task):
            guard let row = try registry.artifact(manifestDigest: digest.description), row.task == task else { return nil }
            switch reference {
            case .digest: return digest
            case .tag(let tag) where tag == row.version: return digest
            case .tag: return try registry.artifact(Reference(task: task))?.id == row.id ? digest : nil
            }
        case .base(let name):
            return try registry.baseModel(named: name)?.manifestDigest == digest.description ? digest : nil
        }
    }

    /// Checks what a manifest not in the registry needs, then imports it.
    private func importNew(
        _ bytes: [UInt8], manifest: Manifest, task: String?, repository: RepositoryName, reference: ManifestReference
    ) throws -> Digest {
        let config = try configBytes(of: manifest)
        if case .base(let name) = repository.content {
            let baseConfig = try? JSONDecoder().decode(BaseConfig.self, from: Data(config))
            guard let baseConfig, baseConfig.name == name else {
                throw RegistryError(.manifestInvalid, "the config of this base model names '\(baseConfig?.name ?? "?")', not '\(name)' of repository \(repository)")
            }
        }
        try checkRequirements(manifest: bytes, config: config, repository: repository)
        let missing = try registry.missingBlobs(ofManifest: bytes)
        // A concurrent push of the same blob may have moved it from the staging folder to the store.
        for layer in missing where uploads.stagedSize(layer.digest) == nil && !registry.blobs.contains(layer.digest) {
            throw RegistryError(.manifestBlobUnknown, "layer \(layer.digest) (\(layer.annotations?[AnnotationKey.title] ?? "untitled")) was not uploaded", detail: ["digest": layer.digest.description])
        }
        let version: String? = if case .tag(let tag) = reference { tag } else { nil }
        let digest: Digest
        do {
            digest = try importArtifact(bytes, config: config, task: task, version: version)
        } catch let error as QuiverError where error.kind == .corrupt || error.kind == .notFound {
            // Uploaded bytes were verified against their digest: content that does not match its
            // annotations, or a dependency that vanished meanwhile, is the manifest's fault.
            throw RegistryError(error.kind == .corrupt ? .manifestInvalid : .manifestBlobUnknown, error.message)
        }
        // Blobs now in the store need no staged copy.
        uploads.removeStaged(([manifest.config] + manifest.layers).map(\.digest).filter { registry.blobs.contains($0) })
        return digest
    }

    /// The task of an adapter or fusion repository (nil for a base model), after checking that the
    /// manifest's kind belongs in it.
    private func checkFits(_ manifest: Manifest, repository: RepositoryName, reference: ManifestReference) throws -> String? {
        switch repository.content {
        case .task(let task):
            guard manifest.artifactType == MediaType.adapterArtifact || manifest.artifactType == MediaType.fusionArtifact else {
                throw RegistryError(.manifestInvalid, "repository \(repository) holds adapters and fusions; artifactType \"\(manifest.artifactType)\" is not one (base models go to \(repository.namespace)/base/NAME)")
            }
            return task
        case .base:
            guard manifest.artifactType == MediaType.baseArtifact else {
                throw RegistryError(.manifestInvalid, "repository \(repository) holds a base model; artifactType \"\(manifest.artifactType)\" is not one")
            }
            if case .tag(let tag) = reference, tag != Reference.latest {
                throw RegistryError(.manifestInvalid, "a base model is tagged latest, not '\(tag)'")
            }
            return nil
        }
    }

    /// The config blob, uploaded or already stored.
    private func configBytes(of manifest: Manifest) throws -> [UInt8] {
        let digest = manifest.config.digest
        guard manifest.config.size <= Self.configLimit else {
            throw RegistryError(.manifestInvalid, "config blob \(digest) is \(manifest.config.size) bytes, more than \(Self.configLimit)")
        }
        if let staged = try uploads.readStaged(digest, limit: Self.configLimit) { return staged }
        if registry.blobs.contains(digest) { return try registry.blobs.readStored(digest, limit: Self.configLimit) }
        throw RegistryError(.manifestBlobUnknown, "config blob \(digest) was not uploaded", detail: ["digest": digest.description])
    }

    /// Refuses an artifact whose base model or fusion members are not on the server yet.
    private func checkRequirements(manifest: [UInt8], config: [UInt8], repository: RepositoryName) throws {
        let requirements = try registry.missingRequirements(ofManifest: manifest, config: config)
        guard let first = requirements.first else { return }
        let names = requirements.map { requirement -> String in
            switch requirement {
            case .base(let name, _, let digest): "base model \(name) (push \(repository.namespace)/\(Registry.baseRepository(name))@\(digest) first)"
            case .member(let task, let version, let digest): "fusion member \(task):\(version) (push \(repository.namespace)/\(task)@\(digest) first)"
            }
        }
        let detail: [String: String] = switch first {
        case .base(let name, _, let digest): ["repository": "\(repository.namespace)/\(Registry.baseRepository(name))", "digest": digest.description]
        case .member(let task, _, let digest): ["repository": "\(repository.namespace)/\(task)", "digest": digest.description]
        }
        throw RegistryError(.manifestBlobUnknown, "\(repository) needs what this server does not hold: \(names.joined(separator: ", "))", detail: detail)
    }

    /// Imports the artifact, its uploaded layers pinned so that expiry cannot take them meanwhile.
    /// The pins are this import's own hard links: the import moves them into the store.
    private func importArtifact(_ bytes: [UInt8], config: [UInt8], task: String?, version: String?) throws -> Digest {
        let pins = try uploads.beginImport()
        defer { uploads.endImport(pins) }
        let outcome = try registry.importArtifact(manifest: bytes, config: config, task: task, version: version, takingReceived: true) { layer in
            guard let path = uploads.pin(layer.digest, into: pins) ?? (registry.blobs.contains(layer.digest) ? registry.blobs.path(of: layer.digest) : nil) else {
                throw RegistryError(.manifestBlobUnknown, "layer \(layer.digest) was not uploaded (or expired)", detail: ["digest": layer.digest.description])
            }
            return path
        }
        switch outcome {
        case .artifact(let result): return try Digest(parsing: result.artifact.manifestDigest)
        case .base(let result): return try Digest(parsing: result.base.manifestDigest)
        }
    }
}
