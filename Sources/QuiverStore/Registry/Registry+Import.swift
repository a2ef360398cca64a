import QuiverModel
import Foundation
import QuiverTensor

/// An artifact received from a remote (or pushed to `quiver serve`): its manifest and config bytes
/// exactly as received.
public struct IncomingArtifact: Sendable {
    public var manifest: [UInt8]
    public var config: [UInt8]
    /// The repository's task (adapters and fusions); nil for a base model.
    public var task: String?
    /// The tag it was asked by: nil or `latest` take the version its config records; any other tag
    /// must be that version.
    public var tag: String?
    /// Asked for, rather than brought along only as a dependency (a base model, a fusion member) of
    /// what was: a dependency is imported only when something that needs it is.
    public var isRequested: Bool

    public init(manifest: [UInt8], config: [UInt8], task: String?, tag: String?, isRequested: Bool = true) {
        self.manifest = manifest
        self.config = config
        self.task = task
        self.tag = tag
        self.isRequested = isRequested
    }
}

/// A manifest received from elsewhere, parsed strictly and checked before anything it names is
/// downloaded: its kind, its config's media type, its layers' file names (those of the kind's folder
/// layout, each once, with the media type of its encoding) and the content each layer declares
/// (`ContentLimits`).
struct IncomingManifest {
    struct Layer {
        var descriptor: Descriptor
        var title: String
        var blob: BlobDescriptor
    }

    var manifest: Manifest
    var kind: ManifestKind
    var layers: [Layer]

    init(_ bytes: [UInt8], source: String, limits: ContentLimits = .standard) throws {
        let manifest = try Manifest.decode(bytes, source: source)
        let (kind, configType, isFileName, fileNames): (ManifestKind, String, (String) -> Bool, String)
        switch manifest.artifactType {
        case MediaType.baseArtifact:
            (kind, configType, isFileName, fileNames) = (.base, MediaType.baseConfig, ModelFolder.isFileName, "the files of a Hugging Face model folder")
        case MediaType.adapterArtifact:
            (kind, configType, isFileName, fileNames) = (.adapter, MediaType.adapterConfig, AdapterFolder.fileNames.contains, AdapterFolder.fileNames.sorted().joined(separator: ", "))
        case MediaType.fusionArtifact:
            (kind, configType, isFileName, fileNames) = (.fusion, MediaType.fusionConfig, FusionFolder.fileNames.contains, FusionFolder.fileNames.sorted().joined(separator: ", "))
        default: throw QuiverError(.unsupported, "\(source): artifactType \"\(manifest.artifactType)\" is not a Quiver artifact")
        }
        guard manifest.config.mediaType == configType else {
            throw QuiverError(.invalidInput, "\(source): the config of a \(kind.rawValue) has media type \(configType), not \"\(manifest.config.mediaType)\"")
        }
        var titles = Set<String>()
        self.manifest = manifest
        self.kind = kind
        self.layers = try manifest.layers.map { layer in
            guard let title = layer.annotations?[AnnotationKey.title], isFileName(title) else {
                let given = layer.annotations?[AnnotationKey.title].map { "\"\($0)\"" } ?? "none"
                throw QuiverError(
                    .invalidInput,
                    "\(source): layer \(layer.digest) is named \(given) (\(AnnotationKey.title)); a \(kind.rawValue) holds \(fileNames)")
            }
            guard titles.insert(title).inserted else {
                throw QuiverError(.invalidInput, "\(source): two layers are named \(title)")
            }
            let encoding = MediaType.encoding(ofLayer: layer.mediaType)
            guard layer.mediaType == MediaType.layer(fileName: title, encoding: encoding) else {
                throw QuiverError(.invalidInput, "\(source): layer \(title) has media type \"\(layer.mediaType)\", not \(MediaType.layer(fileName: title, encoding: .raw)) or its planes form")
            }
            let content = try Manifest.contentOf(layer)
            let blob = BlobDescriptor(digest: layer.digest, size: layer.size, contentDigest: content.digest, contentSize: content.size, encoding: encoding)
            try limits.check(blob, what: "\(source): layer \(title) (\(layer.digest))")
            return Layer(descriptor: layer, title: title, blob: blob)
        }
    }
}

extension Registry {
    public enum ImportOutcome: Sendable {
        case artifact(PushResult)
        case base(BaseAddResult)
    }

    /// Imports artifacts received from a remote (or pushed to `quiver serve`), dependencies before
    /// what needs them (a base model, adapters, then a fusion over them), storing exactly what was
    /// received: the manifest and config bytes and each layer's stored bytes, under their digests.
    ///
    /// Each layer is verified (stored digest, then its decoded content's digest and size) and decoded
    /// into a temporary folder that goes through the checks of a local push — config parsing, tensor
    /// names and shapes against the base model, fusion members — and the config's claims
    /// (architecture, parameter counts, labels, base, members) must agree with what that content
    /// gives. Each artifact stands alone: one that fails is left out with its reason, and so is what
    /// needs it, while the others go in. A dependency that is not requested goes in only with
    /// something that needs it. Then the blobs of what goes in are written and fsynced (all at once,
    /// `PendingBlob.commit`), and everything is catalogued in one transaction: nothing of a failed
    /// artifact becomes visible, and a failure of the store itself leaves the registry as it was.
    ///
    /// - Parameters:
    ///   - stored: the path of the stored bytes of a layer the registry does not hold (those
    ///     `missingBlobs` lists).
    ///   - takingReceived: move those files into the store rather than copy them (they are the
    ///     caller's downloads, left where they are until the import ends).
    /// - Returns: one result per artifact, in order.
    public func importArtifacts(
        _ artifacts: [IncomingArtifact], force: Bool = false, takingReceived: Bool = false, stored: (Descriptor) throws -> String
    ) throws -> [Result<ImportOutcome, any Error>] {
        var written: [Digest] = []
        do {
            return try locked(.shared) {
                let folder = try TemporaryFolder(in: blobs.temporaryDirectory, prefix: "import")
                defer { folder.remove() }
                var batch = ImportBatch()
                var results = [Result<ImportOutcome, any Error>?](repeating: nil, count: artifacts.count)
                var verified: [VerifiedArtifact] = []
                for (index, artifact) in artifacts.enumerated() {
                    let before = batch
                    do {
                        verified.append(try withoutActuallyEscaping(stored) { stored in
                            try verify(
                                artifact, index: index, into: &batch, folder: folder.path + "/\(index)", force: force,
                                received: ReceivedLayers(path: stored, taking: takingReceived))
                        })
                    } catch {
                        batch = before
                        results[index] = .failure(error)
                    }
                }
                let kept = Self.kept(verified, requested: artifacts.map(\.isRequested))
                for item in verified where !kept.contains(item.index) {
                    results[item.index] = .failure(NotNeeded(name: item.name))
                }
                let entries = verified.filter { kept.contains($0.index) }
                let needed = Set(entries.flatMap { $0.entry.blobs.map(\.digest) })
                let commits = batch.pending.filter { needed.contains($0.key) }
                for (digest, _) in commits where !blobs.contains(digest) { written.append(digest) }
                try PendingBlob.commit(Array(commits.values))
                blobs.syncDirectory()
                let outcomes = try catalog.importArtifacts(entries.map(\.entry), force: force)
                for (item, outcome) in zip(entries, outcomes) {
                    switch outcome {
                    case .base(let row, let added): results[item.index] = .success(.base(BaseAddResult(base: row, added: added)))
                    case .artifact(let row, let outcome): results[item.index] = .success(.artifact(PushResult(artifact: row, outcome: outcome)))
                    }
                }
                return results.map { $0! }
            }
        } catch {
            removeUncatalogued(written)
            throw error
        }
    }

    /// The result of a verified dependency left out because nothing that needs it went in.
    public struct NotNeeded: Error, CustomStringConvertible {
        public var name: String
        public var description: String { "\(name) was not imported: what needed it failed" }
    }

    /// The verified artifacts that go in: those requested, and those needed by one that goes in
    /// (decided from the last back, as dependencies come first). What a verified artifact needs
    /// verified too, or it would have failed.
    private static func kept(_ verified: [VerifiedArtifact], requested: [Bool]) -> Set<Int> {
        var kept = Set<Int>()
        var needed = Set<String>()
        for item in verified.reversed() where requested[item.index] || needed.contains(item.provides) {
            kept.insert(item.index)
            needed.formUnion(item.requires)
        }
        return kept
    }

    /// Blob files this import added that no catalog row references, after a failed commit. Taken
    /// with the lock exclusive, so a concurrent push that writes the same blob has catalogued it.
    private func removeUncatalogued(_ digests: [Digest]) {
        guard !digests.isEmpty else { return }
        _ = try? locked(.exclusive) {
            for digest in digests where try catalog.blob(digest: digest.description) == nil {
                blobs.remove(digest)
            }
        }
    }

    // MARK: - Verification

    /// What an import has verified so far: the blobs to write and the catalog entries, plus what
    /// later artifacts of the same import need from earlier ones.
    struct ImportBatch {
        /// Blobs to write, once each, by stored digest.
        var pending: [Digest: PendingBlob] = [:]
        /// Base models of this import, and local ones looked up for it, by weights digest.
        var bases: [String: (name: String, shapes: BaseShapes)] = [:]
        /// Adapters of this import by manifest digest (possible fusion members).
        var members: [String: FusionMember] = [:]
    }

    /// What a fusion needs to know of a member adapter.
    struct FusionMember {
        var name: String
        var kind: ArtifactKind
        var architecture: AdapterKind
        var baseDigest: String
        /// Where it has bottleneck layers: location → layer indices.
        var locations: [String: Set<String>]
    }

    /// An artifact that passed every check, with what it provides to and needs from the others of
    /// its import (keys: `base <weights digest>` or a version's manifest digest).
    struct VerifiedArtifact {
        var index: Int
        var name: String
        var entry: Catalog.ImportEntry
        var provides: String
        var requires: [String]
    }

    /// Where the layers an import receives are, and whether it may take them.
    struct ReceivedLayers {
        var path: (Descriptor) throws -> String
        var taking: Bool
    }

    /// Adapters and fusions whose content is at most this size are decoded in memory; base models
    /// (and larger artifacts) into a temporary folder.
    static let inMemoryContentLimit = 64 << 20

    private func verify(
        _ artifact: IncomingArtifact, index: Int, into batch: inout ImportBatch, folder: String, force: Bool, received: ReceivedLayers
    ) throws -> VerifiedArtifact {
        let source = "manifest \(Digest.of(artifact.manifest))"
        let incoming = try IncomingManifest(artifact.manifest, source: source)
        guard artifact.config.count == incoming.manifest.config.size, Digest.of(artifact.config) == incoming.manifest.config.digest else {
            throw QuiverError(.corrupt, "config blob \(incoming.manifest.config.digest) does not match its digest")
        }
        let files: ArtifactFiles
        if incoming.kind != .base, incoming.layers.reduce(0, { $0 + $1.blob.contentSize }) <= Self.inMemoryContentLimit {
            var contents: [String: [UInt8]] = [:]
            for layer in incoming.layers {
                var content: [UInt8] = []
                content.reserveCapacity(layer.blob.contentSize)
                try receive(layer, batch: &batch, received: received) { content.append(contentsOf: $0) }
                contents[layer.title] = content
            }
            files = .memory(contents, source: folder)
        } else {
            try FileSystem.createDirectory(folder)
            try materialize(incoming, into: folder, batch: &batch, received: received)
            files = try .folder(folder)
        }
        let manifestBlob = Self.rawDescriptor(artifact.manifest)
        let configBlob = Self.rawDescriptor(artifact.config)
        let content: Catalog.ImportEntry.Content
        let rows: [FileRow]
        switch incoming.kind {
        case .base:
            (content, rows) = try verifyBase(incoming, config: artifact.config, folder: folder, manifestDigest: manifestBlob.digest, batch: &batch)
        case .adapter, .fusion:
            (content, rows) = try verifyVersion(
                incoming, artifact, files: files, manifestDigest: manifestBlob.digest, configDigest: configBlob.digest, force: force,
                batch: &batch)
        }
        for (bytes, blob) in [(artifact.config, configBlob), (artifact.manifest, manifestBlob)] where batch.pending[blob.digest] == nil {
            batch.pending[blob.digest] = try blobs.write(bytes)
        }
        let entry = Catalog.ImportEntry(content: content, files: rows, blobs: incoming.layers.map(\.blob) + [configBlob, manifestBlob])
        switch content {
        case .base(let row):
            return VerifiedArtifact(index: index, name: "base model \(row.name)", entry: entry, provides: "base \(row.digest)", requires: [])
        case .artifact(let row, let baseDigest, let members):
            return VerifiedArtifact(
                index: index, name: "\(row.task):\(row.version)", entry: entry, provides: manifestBlob.digest.description,
                requires: ["base \(baseDigest)"] + members)
        }
    }

    private func verifyBase(
        _ incoming: IncomingManifest, config bytes: [UInt8], folder: String, manifestDigest: Digest, batch: inout ImportBatch
    ) throws -> (Catalog.ImportEntry.Content, [FileRow]) {
        let config = try StrictJSON.decode(BaseConfig.self, from: bytes, source: "base model config \(Digest.of(bytes))", what: "Quiver base model config")
        try Reference.validateBaseName(config.name)
        let claims = Claims(source: "base model \(config.name)")
        let base = try Self.naming(config.name, folder) { try ModelFolder(path: folder) }
        let files = try fileRows(incoming, files: base.files, source: claims.source)
        let weights = zip(base.files, files).filter { $0.0.role == .weights }.compactMap { file, row in
            incoming.layers.first { $0.title == row.name }.map { (name: file.name, digest: $0.blob.contentDigest) }
        }
        try claims.check("digest", config.digest, Self.baseDigest(weights: weights).description)
        try claims.check("modelType", config.modelType, base.config.modelType)
        try claims.check("hiddenSize", config.hiddenSize, base.config.hiddenSize)
        try claims.check("layerCount", config.layerCount, base.config.layerCount)
        try claims.check("headCount", config.headCount, base.config.headCount)
        try claims.check("intermediateSize", config.intermediateSize, base.config.intermediateSize)
        try claims.check("vocabSize", config.vocabSize, base.config.vocabSize)
        try claims.check("maxPositions", config.maxPositions, base.config.maxPositions)
        try claims.check("parameters", config.parameters, base.parameterCount)
        if let architectures = config.architectures { try claims.check("architectures", architectures, base.config.architectures) }
        if let dtype = config.dtype { try claims.check("dtype", dtype, base.dtype) }
        try claims.checkAnnotations(incoming.manifest.annotations, config.manifestAnnotations)
        if let existing = try catalog.baseModel(named: config.name), existing.manifestDigest != manifestDigest.description {
            throw QuiverError(.conflict, "base model '\(config.name)' exists here with other content (\(existing.digest))")
        }
        batch.bases[config.digest] = (config.name, BaseShapes(base))
        let layers = incoming.layers.map(\.blob)
        let row = BaseModelRow(
            config: config, manifestDigest: manifestDigest.description, configDigest: incoming.manifest.config.digest.description,
            engineNote: base.engineNote, size: layers.reduce(0) { $0 + $1.contentSize }, storedSize: layers.reduce(0) { $0 + $1.size })
        return (.base(row), files)
    }

    private func verifyVersion(
        _ incoming: IncomingManifest, _ artifact: IncomingArtifact, files: ArtifactFiles, manifestDigest: Digest, configDigest: Digest,
        force: Bool, batch: inout ImportBatch
    ) throws -> (Catalog.ImportEntry.Content, [FileRow]) {
        let config = try StrictJSON.decode(
            ArtifactConfig.self, from: artifact.config, source: "config \(configDigest)", what: "Quiver \(incoming.kind.rawValue) config")
        let name = "\(config.task):\(config.version)"
        let claims = Claims(source: name)
        try Reference.validateTask(config.task)
        try Reference.validateVersion(config.version)
        if let task = artifact.task { try claims.check("task", config.task, task, actual: "the repository") }
        if let tag = artifact.tag, tag != Reference.latest { try claims.check("version", config.version, tag, actual: "the tag") }
        try claims.check("kind", config.kind.rawValue, incoming.kind.rawValue, actual: "the manifest")
        if batch.bases[config.base.digest] == nil, let local = try catalog.baseModel(digest: config.base.digest) {
            batch.bases[config.base.digest] = (local.name, try shapes(of: local))
        }
        guard let base = batch.bases[config.base.digest] else {
            throw QuiverError(.notFound, "base model \(config.base.name) (\(config.base.digest)) is not in the registry; pull it first")
        }
        let verified = try Self.naming(name, files.source) {
            incoming.kind == .adapter
                ? try verifyAdapter(files, config: config, base: base, batch: &batch, manifestDigest: manifestDigest)
                : try verifyFusion(files, config: config, base: base, batch: batch)
        }
        let files = try fileRows(incoming, files: verified.files, source: name)
        try claims.check("architecture", config.architecture, verified.architecture)
        try claims.check("format", config.format, verified.format)
        try claims.check("parameters", config.parameters, verified.parameters)
        try claims.check("headParameters", config.headParameters, verified.headParameters)
        try claims.check("labels", config.labels, verified.labels)
        try claims.checkAnnotations(incoming.manifest.annotations, config.manifestAnnotations)
        if let metadata = config.metadata, (try? JSONParser.parse(Array(metadata.utf8)))?.objectValue == nil {
            throw QuiverError(.invalidInput, "\(name): config field \"metadata\" is not the text of a JSON object")
        }
        if let existing = try catalog.artifact(Reference(task: config.task, version: config.version)),
           existing.manifestDigest != manifestDigest.description, !force
        {
            throw Catalog.importConflict(existing)
        }
        let layers = incoming.layers.map(\.blob)
        let row = ArtifactRow(
            id: nil, task: config.task, version: config.version, kind: config.kind, manifestDigest: manifestDigest.description,
            configDigest: configDigest.description, architecture: config.architecture, format: config.format, baseModelId: 0,
            parameters: config.parameters, headParameters: config.headParameters,
            size: layers.reduce(0) { $0 + $1.contentSize }, storedSize: layers.reduce(0) { $0 + $1.size },
            labels: Self.jsonArray(config.labels), description: config.description, metadata: config.metadata ?? "{}", createdAt: Date(),
            engineNote: verified.engineNote)
        return (.artifact(row, baseDigest: config.base.digest, memberManifestDigests: (config.members ?? []).map(\.manifestDigest)), files)
    }

    /// Runs a folder analysis on the temporary folder of `name`, naming `name` instead of that folder
    /// in its errors.
    private static func naming<T>(_ name: String, _ folder: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as QuiverError {
            throw QuiverError(error.kind, error.message.replacingOccurrences(of: folder + "/", with: name + " ").replacingOccurrences(of: folder, with: name))
        }
    }

    /// Decodes each layer into `folder` under its file name (temporary files, not synced).
    private func materialize(_ incoming: IncomingManifest, into folder: String, batch: inout ImportBatch, received: ReceivedLayers) throws {
        for layer in incoming.layers {
            let file = try TemporaryFile(in: folder)
            do {
                try receive(layer, batch: &batch, received: received) { try file.write($0) }
                try file.move(to: folder + "/" + layer.title)
            } catch {
                file.discard()
                throw error
            }
        }
    }

    /// Verifies a layer and hands its decoded content to `content`: from the local store when the
    /// registry holds that exact blob, else from the received file, which becomes a pending blob.
    private func receive(
        _ layer: IncomingManifest.Layer, batch: inout ImportBatch, received: ReceivedLayers, content: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        if let local = try storedBlob(layer.blob.digest) {
            guard local.contentDigest == layer.blob.contentDigest, local.contentSize == layer.blob.contentSize else {
                throw QuiverError(.invalidInput, "layer \(layer.title) (\(layer.blob.digest)) declares content \(layer.blob.contentDigest), the same blob here holds \(local.contentDigest)")
            }
            try blobs.read(local, into: content)
        } else if batch.pending[layer.blob.digest] != nil {
            try blobs.read(layer.blob, at: try received.path(layer.descriptor), into: content)
        } else {
            batch.pending[layer.blob.digest] = try blobs.receive(
                layer.blob, from: try received.path(layer.descriptor), taking: received.taking, content: content)
        }
    }

    /// What the verified content of an adapter or fusion gives, to compare with its config.
    private struct VerifiedContent {
        var files: [FolderFile]
        var architecture: AdapterKind
        var format: ArtifactFormat
        var parameters: Int
        var headParameters: Int
        var labels: [String]
        var engineNote: String?
    }

    private func verifyAdapter(
        _ files: ArtifactFiles, config: ArtifactConfig, base: (name: String, shapes: BaseShapes), batch: inout ImportBatch, manifestDigest: Digest
    ) throws -> VerifiedContent {
        var folder = try AdapterFolder(files: files)
        try folder.checkCompatibility(with: base.shapes, baseName: base.name)
        if let members = config.members, !members.isEmpty {
            throw QuiverError(.invalidInput, "\(config.task):\(config.version): an adapter's config lists fusion members")
        }
        let weights = folder.files.first { $0.role == .adapterWeights }?.safetensors
        batch.members[manifestDigest.description] = FusionMember(
            name: "\(config.task):\(config.version)", kind: .adapter, architecture: folder.architecture, baseDigest: config.base.digest,
            locations: weights.map(Self.adapterLocations) ?? [:])
        return VerifiedContent(
            files: folder.files, architecture: folder.architecture, format: folder.format, parameters: folder.parameters,
            headParameters: folder.headParameters, labels: folder.labels, engineNote: base.shapes.engineNote ?? folder.engineNote)
    }

    private func verifyFusion(
        _ files: ArtifactFiles, config: ArtifactConfig, base: (name: String, shapes: BaseShapes), batch: ImportBatch
    ) throws -> VerifiedContent {
        let folder = try FusionFolder(files: files)
        let members = try (config.members ?? []).map { member -> FusionMember in
            if let incoming = batch.members[member.manifestDigest] { return incoming }
            guard let local = try catalog.artifact(manifestDigest: member.manifestDigest) else {
                throw QuiverError(.notFound, "fusion member \(member.task):\(member.version) (\(member.manifestDigest)) is not in the registry; pull it first")
            }
            guard let memberBase = try catalog.baseModel(id: local.baseModelId) else {
                throw QuiverError(.corrupt, "\(local.task):\(local.version) names a base model the catalog does not hold")
            }
            let isBottleneck = local.kind == .adapter && local.architecture.isFusable
            return FusionMember(
                name: "\(local.task):\(local.version)", kind: local.kind, architecture: local.architecture, baseDigest: memberBase.digest,
                locations: isBottleneck ? try adapterLocations(of: local) : [:])
        }
        try Self.checkMembers(members, of: folder, baseDigest: config.base.digest)
        try folder.checkCompatibility(with: base.shapes, baseName: base.name, memberLocations: members.map(\.locations))
        return VerifiedContent(
            files: folder.files, architecture: folder.architecture, format: .adapters, parameters: folder.parameters,
            headParameters: folder.headParameters, labels: folder.head?.labels ?? [], engineNote: base.shapes.engineNote)
    }

    /// The layers must be exactly the folder's files, with the roles the folder gives them, and hold
    /// tensors in canonical form (so identical content has one content digest everywhere).
    private func fileRows(_ incoming: IncomingManifest, files: [FolderFile], source: String) throws -> [FileRow] {
        let byName = Dictionary(uniqueKeysWithValues: files.map { ($0.name, $0) })
        return try incoming.layers.map { layer in
            guard let file = byName[layer.title] else {
                throw QuiverError(.invalidInput, "\(source): layer \(layer.title) is not a file of this \(incoming.kind.rawValue) (\(files.map(\.name).joined(separator: ", ")))")
            }
            if let role = layer.descriptor.annotations?[AnnotationKey.role], role != file.role.rawValue {
                throw QuiverError(.invalidInput, "\(source): layer \(layer.title) says role \"\(role)\", it is the \(file.role)")
            }
            if let tensors = file.safetensors {
                let canonical = tensors.withCanonicalSegments { segments in
                    var hasher = DigestHasher()
                    for segment in segments { hasher.update(segment) }
                    return hasher.finalize()
                }
                guard canonical == layer.blob.contentDigest else {
                    throw QuiverError(.invalidInput, "\(source): layer \(layer.title) is not a safetensors file in canonical form")
                }
            }
            return FileRow(name: layer.title, role: file.role, blobDigest: layer.blob.digest.description)
        }
    }

    /// A local blob with exactly this stored digest (catalogued and present).
    private func storedBlob(_ digest: Digest) throws -> BlobDescriptor? {
        guard let row = try catalog.blob(digest: digest.description), blobs.contains(digest) else { return nil }
        return try row.descriptor()
    }
}

/// Compares what a config claims with what the verified content gives, naming the field at fault.
private struct Claims {
    let source: String

    func check<T: Equatable>(_ field: String, _ claimed: T, _ actual: T, actual what: String = "the content") throws {
        guard claimed == actual else {
            throw QuiverError(.invalidInput, "\(source): config field \"\(field)\" says \(claimed), \(what) gives \(actual)")
        }
    }

    /// The manifest annotations Quiver reads (`list --remote` shows them without reading the config).
    static let readAnnotations: Set = [
        AnnotationKey.task, AnnotationKey.version, AnnotationKey.kind, AnnotationKey.architecture, AnnotationKey.parameters,
        AnnotationKey.headParameters, AnnotationKey.baseName, AnnotationKey.baseDigest, AnnotationKey.members, AnnotationKey.description,
    ]

    /// The annotations Quiver reads, where present, must repeat the config (others are left alone).
    func checkAnnotations(_ annotations: [String: String]?, _ expected: [String: String]) throws {
        for (key, value) in annotations ?? [:] where Self.readAnnotations.contains(key) {
            guard expected[key] == value else {
                throw QuiverError(
                    .invalidInput, "\(source): manifest annotation \(key) says \"\(value)\", the config says \"\(expected[key] ?? "nothing")\"")
            }
        }
    }
}
