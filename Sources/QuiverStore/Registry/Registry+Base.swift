import QuiverModel
import Foundation

extension Registry {
    public struct BaseAddResult: Sendable {
        public var base: BaseModelRow
        public var added: Bool
    }

    /// Imports a Hugging Face model folder as a base model named `name` (default: the folder's name).
    @discardableResult
    public func addBase(folder path: String, name: String? = nil) throws -> BaseAddResult {
        let name = name ?? Reference.sanitizedName(URL(fileURLWithPath: path).standardizedFileURL.lastPathComponent)
        try Reference.validateBaseName(name)
        let folder = try ModelFolder(path: path)
        return try locked(.shared) {
            var files: [FileRow] = []
            var stored: [BlobDescriptor] = []
            var layers: [Descriptor] = []
            var weights: [(name: String, digest: Digest)] = []
            var size = 0, storedSize = 0
            var staged: [StagedBlob] = []
            for file in folder.files {
                let stage = try prepare(file)
                staged.append(stage)
                let blob = stage.descriptor
                let row = FileRow(name: file.name, role: file.role, blobDigest: blob.digest.description)
                files.append(row)
                stored.append(blob)
                layers.append(layer(row, blob))
                size += blob.contentSize
                storedSize += blob.size
                if file.role == .weights { weights.append((file.name, blob.contentDigest)) }
            }
            let digest = Self.baseDigest(weights: weights)
            let config = folder.config
            if let existing = try catalog.baseModel(named: name), existing.digest != digest.description {
                throw QuiverError(.conflict, "base model '\(name)' already exists with other content (\(existing.digest)); choose another --name")
            }
            for stage in staged { try stage.commit() }
            let baseConfig = BaseConfig(
                name: name, digest: digest.description, modelType: config.modelType, hiddenSize: config.hiddenSize,
                layerCount: config.layerCount, headCount: config.headCount, intermediateSize: config.intermediateSize,
                vocabSize: config.vocabSize, maxPositions: config.maxPositions, parameters: folder.parameterCount,
                architectures: config.architectures, dtype: folder.dtype)
            let configBlob = try store(baseConfig.encoded())
            let manifest = Manifest(
                artifactType: MediaType.baseArtifact,
                config: Descriptor(mediaType: MediaType.baseConfig, digest: configBlob.digest, size: configBlob.size),
                layers: layers, subject: nil,
                annotations: baseConfig.manifestAnnotations)
            let manifestBlob = try store(manifest.encoded())
            blobs.syncDirectory()
            let row = BaseModelRow(
                config: baseConfig, manifestDigest: manifestBlob.digest.description, configDigest: configBlob.digest.description,
                engineNote: folder.engineNote, size: size, storedSize: storedSize)
            let (base, inserted) = try catalog.insertBaseModel(row, files: files, blobs: stored + [configBlob, manifestBlob], force: false)
            if !inserted, base.engineNote != folder.engineNote {
                return BaseAddResult(base: try rejudge(base, note: folder.engineNote), added: false)
            }
            return BaseAddResult(base: base, added: inserted)
        }
    }

    /// A base stored by another build, judged again by this one's engine when its folder is added again: its note and
    /// those of every version on it (an adapter's own files decide beside the base, a fusion follows its base).
    private func rejudge(_ base: BaseModelRow, note: String?) throws -> BaseModelRow {
        var judged = base
        judged.engineNote = note
        let shapes = try shapes(of: judged)
        var notes: [(artifact: Int64, note: String?)] = []
        for artifact in try catalog.artifacts(onBase: base.id!) {
            switch artifact.kind {
            case .adapter:
                var folder = try AdapterFolder(files: .memory(try storedFiles(of: artifact), source: "\(artifact.task):\(artifact.version)"))
                try folder.checkCompatibility(with: shapes, baseName: base.name)
                notes.append((artifact.id!, note ?? folder.engineNote))
            case .fusion:
                notes.append((artifact.id!, note))
            }
        }
        try catalog.updateEngineNotes(base: base, note: note, artifacts: notes)
        return judged
    }

    /// A base model's identity wherever it is stored: the content digest of its one weights file, or for shards the
    /// digest of their names and content digests (`name digest` lines, in name order).
    static func baseDigest(weights: [(name: String, digest: Digest)]) -> Digest {
        if weights.count == 1 { return weights[0].digest }
        let lines = weights.sorted { $0.name < $1.name }.map { "\($0.name) \($0.digest)\n" }.joined()
        return Digest.of(Array(lines.utf8))
    }

    /// Removes a base model that no adapter uses.
    public func removeBase(named name: String) throws {
        try locked(.exclusive) {
            guard let base = try catalog.baseModel(named: name) else {
                throw QuiverError(.notFound, "no base model named '\(name)'")
            }
            try catalog.deleteBaseModel(base)
            try pruneUnreferencedBlobs()
        }
    }

    /// The base model to use: by name when given, else the adapter's recorded base, else the only one.
    func resolveBase(named name: String?, recordedDigest: String? = nil) throws -> BaseModelRow {
        if let name {
            guard let base = try catalog.baseModel(named: name) else {
                throw QuiverError(.notFound, "no base model named '\(name)' (add it with `quiver base add DIR --name \(name)`)")
            }
            return base
        }
        if let recordedDigest, let base = try catalog.baseModel(digest: recordedDigest) {
            return base
        }
        let bases = try catalog.baseModels()
        switch bases.count {
        case 0: throw QuiverError(.notFound, "the registry has no base model; add one with `quiver base add DIR`")
        case 1: return bases[0]
        default: throw QuiverError(.invalidInput, "the registry has \(bases.count) base models (\(bases.map(\.name).joined(separator: ", "))); choose one with --base NAME")
        }
    }
}
