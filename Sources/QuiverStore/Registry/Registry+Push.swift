import QuiverModel
import Foundation
import QuiverTensor

extension Registry {
    public enum PushOutcome: String, Sendable {
        /// A new version was stored.
        case stored
        /// The same content already is that version: nothing changed.
        case unchanged
        /// An existing version was replaced (`force`).
        case replaced
    }

    public struct PushResult: Sendable {
        public var artifact: ArtifactRow
        public var outcome: PushOutcome
        /// Notes that did not stop the push (an adapter made for another base…), one line each.
        public var warnings: [String] = []
    }

    /// Imports an adapter folder (`adapters` library, PEFT LoRA or a Quiver export) as `reference`.
    ///
    /// Without a version the push takes the next number (1, 2, …) unless the latest version already
    /// has identical content. An existing version with different content is refused unless `force`.
    @discardableResult
    public func push(
        _ reference: Reference, folder path: String, baseName: String? = nil, description: String? = nil, force: Bool = false,
        metadata: String? = nil
    ) throws -> PushResult {
        try push(reference, adapter: AdapterFolder(path: path), baseName: baseName, description: description, force: force, metadata: metadata)
    }

    /// Stores an adapter already read (from a folder, or from a training run's files in memory) as `reference`.
    @discardableResult
    public func push(
        _ reference: Reference, adapter: AdapterFolder, baseName: String? = nil, description: String? = nil, force: Bool = false,
        metadata: String? = nil
    ) throws -> PushResult {
        var folder = adapter
        return try locked(.shared) {
            let base = try resolveBase(named: baseName, recordedDigest: folder.export?.base.digest)
            try folder.checkCompatibility(with: try shapes(of: base), baseName: base.name)
            var files: [FileRow] = []
            var staged: [StagedBlob] = []
            for file in folder.files {
                let stage = try prepare(file)
                files.append(FileRow(name: file.name, role: file.role, blobDigest: stage.descriptor.digest.description))
                staged.append(stage)
            }
            let content = ArtifactContent(
                kind: .adapter, architecture: folder.architecture, format: folder.format, base: base,
                parameters: folder.parameters, headParameters: folder.headParameters, labels: folder.labels,
                description: description ?? folder.export?.description ?? "", metadata: metadata ?? folder.export?.metadata,
                files: files, blobs: staged.map(\.descriptor), members: [], engineNote: base.engineNote ?? folder.engineNote)
            var result = try commit(content, staged: staged, as: reference, force: force)
            result.warnings = folder.warnings(baseName: base.name)
            return result
        }
    }

    /// What a version holds, independent of its task and version names.
    struct ArtifactContent {
        var kind: ArtifactKind
        var architecture: AdapterKind
        var format: ArtifactFormat
        var base: BaseModelRow
        var parameters: Int
        var headParameters: Int
        var labels: [String]
        var description: String
        var metadata: String?
        var files: [FileRow]
        var blobs: [BlobDescriptor]
        var members: [ArtifactRow]
        /// Why this build's engine does not run it (nil: it does).
        var engineNote: String? = nil
    }

    /// Decides what a push does, then commits the staged files, writes the config and manifest
    /// blobs and catalogs the version — retrying when a concurrent push takes the same version
    /// number first. A push that changes nothing or is refused commits nothing.
    func commit(_ content: ArtifactContent, staged: [StagedBlob], as reference: Reference, force: Bool) throws -> PushResult {
        for _ in 0..<8 {
            var version = reference.version
            var replacing: Int64?
            if let explicit = version {
                if let existing = try catalog.artifact(reference) {
                    let (manifest, _, _) = try manifestBlobs(content, task: reference.task, version: explicit, store: false)
                    if existing.manifestDigest == manifest.digest.description {
                        return PushResult(artifact: existing, outcome: .unchanged)
                    }
                    guard force else {
                        throw QuiverError(.conflict, "\(reference.task):\(explicit) already exists with different content (\(existing.manifestDigest.prefix(19))…); push another version or use --force")
                    }
                    replacing = existing.id
                }
            } else {
                if let latest = try catalog.artifact(reference) {
                    let (manifest, _, _) = try manifestBlobs(content, task: reference.task, version: latest.version, store: false)
                    if latest.manifestDigest == manifest.digest.description {
                        return PushResult(artifact: latest, outcome: .unchanged)
                    }
                }
                version = String(try catalog.highestNumericVersion(of: reference.task) + 1)
            }
            for stage in staged { try stage.commit() }
            let (manifestBlob, configBlob, _) = try manifestBlobs(content, task: reference.task, version: version!, store: true)
            blobs.syncDirectory()
            let row = ArtifactRow(
                id: nil, task: reference.task, version: version!, kind: content.kind, manifestDigest: manifestBlob.digest.description,
                configDigest: configBlob.digest.description, architecture: content.architecture, format: content.format,
                baseModelId: content.base.id!, parameters: content.parameters, headParameters: content.headParameters,
                size: content.blobs.reduce(0) { $0 + $1.contentSize }, storedSize: content.blobs.reduce(0) { $0 + $1.size },
                labels: Self.jsonArray(content.labels), description: content.description, metadata: content.metadata ?? "{}",
                createdAt: Date(), engineNote: content.engineNote)
            do {
                let inserted = try catalog.insertArtifact(
                    row, files: content.files, blobs: content.blobs + [configBlob, manifestBlob],
                    members: content.members.map { ($0.id!, $0.manifestDigest) }, replacing: replacing)
                return PushResult(artifact: inserted, outcome: replacing == nil ? .stored : .replaced)
            } catch is Catalog.Contention {
                continue
            }
        }
        throw QuiverError(.conflict, "\(reference): too many concurrent pushes of this task; try again")
    }

    /// Builds (and with `store`, stores) the config blob and OCI manifest of a version.
    func manifestBlobs(_ content: ArtifactContent, task: String, version: String, store shouldStore: Bool) throws
        -> (manifest: BlobDescriptor, config: BlobDescriptor, Manifest)
    {
        let config = ArtifactConfig(
            task: task, version: version, kind: content.kind, architecture: content.architecture, format: content.format,
            base: .init(name: content.base.name, digest: content.base.digest), parameters: content.parameters,
            headParameters: content.headParameters, labels: content.labels, description: content.description,
            members: content.members.isEmpty ? nil : content.members.map { .init(task: $0.task, version: $0.version, manifestDigest: $0.manifestDigest) },
            metadata: content.metadata)
        let configBytes = config.encoded()
        let configBlob = shouldStore ? try store(configBytes) : Self.rawDescriptor(configBytes)
        let baseManifest = try descriptor(ofBlob: content.base.manifestDigest)
        let manifest = Manifest(
            artifactType: content.kind == .fusion ? MediaType.fusionArtifact : MediaType.adapterArtifact,
            config: Descriptor(mediaType: content.kind == .fusion ? MediaType.fusionConfig : MediaType.adapterConfig, digest: configBlob.digest, size: configBlob.size),
            layers: zip(content.files, content.blobs).map { layer($0, $1) },
            subject: Descriptor(mediaType: MediaType.imageManifest, digest: baseManifest.digest, size: baseManifest.size, artifactType: MediaType.baseArtifact),
            annotations: config.manifestAnnotations)
        let manifestBytes = manifest.encoded()
        let manifestBlob = shouldStore ? try store(manifestBytes) : Self.rawDescriptor(manifestBytes)
        return (manifestBlob, configBlob, manifest)
    }

    static func rawDescriptor(_ bytes: [UInt8]) -> BlobDescriptor {
        let digest = Digest.of(bytes)
        return BlobDescriptor(digest: digest, size: bytes.count, contentDigest: digest, contentSize: bytes.count, encoding: .raw)
    }

    static func jsonArray(_ strings: [String]) -> String {
        String(decoding: try! JSONEncoder().encode(strings), as: UTF8.self)
    }

    /// The base model's configuration, read back from its stored `config.json`, and its tensors' shapes from the
    /// headers of its stored weights (decoded no further than the header).
    public func shapes(of base: BaseModelRow) throws -> BaseShapes {
        let key = base.manifestDigest + " " + (base.engineNote ?? "")
        if let known = baseShapes.withLock({ $0[key] }) { return known }
        let shapes = try readShapes(of: base)
        baseShapes.withLock { $0[key] = shapes }
        return shapes
    }

    /// The shapes from the base's stored `config.json` and its weights' safetensors headers.
    private func readShapes(of base: BaseModelRow) throws -> BaseShapes {
        let files = try catalog.baseModelFiles(base.id!)
        guard let configFile = files.first(where: { $0.name == "config.json" }) else {
            throw QuiverError(.corrupt, "base model '\(base.name)' has no config.json in the catalog")
        }
        let source = "base model '\(base.name)' config.json"
        let json = try JSONParser.parse(try blobs.readAll(try descriptor(ofBlob: configFile.blobDigest)))
        let config = try ModelConfig(json: json, source: source)
        var tensors: [String: [Int]] = [:]
        for file in files where file.role == .weights {
            let blob = try descriptor(ofBlob: file.blobDigest)
            let length = try blobs.readPrefix(blob, count: 8)
            guard length.count == 8 else { throw QuiverError(.corrupt, "base model '\(base.name)' \(file.name) is too short") }
            let headerLength = length.withUnsafeBytes { Int(clamping: $0.loadUnaligned(as: UInt64.self).littleEndian) }
            guard headerLength <= SafetensorsHeader.maximumHeaderLength else {
                throw QuiverError(.corrupt, "base model '\(base.name)' \(file.name): header length \(headerLength) is over the limit")
            }
            let prefix = try blobs.readPrefix(blob, count: 8 + headerLength)
            do {
                let header = try prefix.withUnsafeBytes { try SafetensorsHeader.parse(prefix: $0, fileLength: blob.contentSize) }
                for tensor in header.tensors { tensors[tensor.name] = tensor.shape }
            } catch {
                throw QuiverError(.corrupt, "base model '\(base.name)' \(file.name): \(error)")
            }
        }
        let bert = EncoderFamily(config.architecture) != nil ? try BertConfig(json: json, source: source) : nil
        return BaseShapes(config: config, bert: bert, tensors: tensors, engineNote: base.engineNote)
    }

    /// The configuration of a base the engine runs (a BERT-family encoder), from its stored `config.json` alone.
    public func config(of base: BaseModelRow) throws -> BertConfig {
        guard EncoderFamily(BaseArchitecture(rawValue: base.modelType)) != nil else {
            throw QuiverError(.unsupported, "base model '\(base.name)': \(base.engineNote ?? "\(base.modelType) is not run by this build's engine")")
        }
        guard let file = try catalog.baseModelFiles(base.id!).first(where: { $0.name == "config.json" }) else {
            throw QuiverError(.corrupt, "base model '\(base.name)' has no config.json in the catalog")
        }
        let bytes = try blobs.readAll(try descriptor(ofBlob: file.blobDigest))
        return try BertConfig(json: try JSONParser.parse(bytes), source: "base model '\(base.name)' config.json")
    }
}
