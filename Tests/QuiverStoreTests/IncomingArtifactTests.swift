import Foundation
import GRDB
import Testing
@testable import QuiverStore
import QuiverModel

/// What the registry accepts from elsewhere (a remote, a push to `quiver serve`): manifests and
/// configs parsed strictly, content sizes bounded before decoding, small blobs read within their
/// limit, and imports that happen whole or not at all.
@Suite struct IncomingArtifactTests {
    /// The sample `sentiment` in a source registry: its manifest, config and stored layers.
    struct Published {
        let source: Workspace
        let manifest: Manifest
        let manifestBytes: [UInt8]
        let config: [UInt8]

        init() throws {
            source = try Workspace.withBase()
            try source.registry.push(Reference(parsing: "sentiment"), folder: source.sample("sentiment"))
            let outgoing = try source.registry.outgoing(Reference(parsing: "sentiment"))
            manifestBytes = outgoing.manifest
            manifest = try Manifest.decode(outgoing.manifest, source: "test")
            config = try source.registry.blobs.readStored(manifest.config.digest, limit: 1 << 20)
        }

        func path(_ layer: Descriptor) -> String { source.registry.blobs.path(of: layer.digest) }
    }

    // MARK: - Strict manifests

    @Test func manifestsWithDuplicateKeysOrBadSizesAreRefused() throws {
        let published = try Published()
        let text = String(decoding: published.manifestBytes, as: UTF8.self)
        let cases: [(String, String)] = [
            (#"{"schemaVersion":2,"#, "duplicate key \"schemaVersion\""),
            (#"{"layers":[],"#, "duplicate key \"layers\""),
        ]
        for (prefix, expected) in cases {
            let bytes = Array((prefix + text.dropFirst()).utf8)
            let error = #expect(throws: QuiverError.self) { try Manifest.decode(bytes, source: "m") }
            #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
        }
        for size in [-1, Descriptor.maximumSize + 1] {
            var manifest = published.manifest
            manifest.layers[0].size = size
            let error = #expect(throws: QuiverError.self) { try Manifest.decode(manifest.encoded(), source: "m") }
            #expect(error?.message.contains("outside 0…") == true, "\(error?.message ?? "")")
        }
        for contentSize in ["-5", "12abc", "99999999999999999999", "007"] {
            var layer = published.manifest.layers[0]
            layer.annotations?[AnnotationKey.contentSize] = contentSize
            #expect(throws: QuiverError.self, "\(contentSize)") { try Manifest.contentOf(layer) }
        }
        var lone = published.manifest.layers[0]
        lone.annotations?[AnnotationKey.contentDigest] = nil
        #expect(throws: QuiverError.self) { try Manifest.contentOf(lone) }
        let oversized = [UInt8](repeating: 0x20, count: Manifest.sizeLimit + 1)
        #expect(throws: QuiverError.self) { try Manifest.decode(oversized, source: "m") }
    }

    @Test func layersMustBeFilesOfTheirKindOnce() throws {
        let published = try Published()
        func refusal(_ edit: (inout Manifest) -> Void) -> String {
            var manifest = published.manifest
            edit(&manifest)
            do {
                _ = try published.source.registry.checkIncoming(manifest: manifest.encoded(), source: "m")
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        let title = AnnotationKey.title
        let escaping = refusal { $0.layers[0].annotations?[title] = "../../etc/passwd" }
        #expect(escaping.contains("is named \"../../etc/passwd\""), "\(escaping)")
        let twice = refusal { manifest in
            let first = manifest.layers[0].annotations?[title]
            manifest.layers[1].annotations?[title] = first
        }
        #expect(twice.contains("two layers are named"), "\(twice)")
        let unnamed = refusal { $0.layers[0].annotations = nil }
        #expect(unnamed.contains("is named none"), "\(unnamed)")
        let configType = refusal { $0.config.mediaType = MediaType.baseConfig }
        #expect(configType.contains("has media type"), "\(configType)")
        let other = refusal { $0.artifactType = "application/vnd.other+json" }
        #expect(other.contains("not a Quiver artifact"), "\(other)")
        let json = try #require(published.manifest.layers.firstIndex { $0.annotations?[title] == "adapter_config.json" })
        let planes = refusal { $0.layers[json].mediaType = MediaType.safetensorsPlanes }
        #expect(planes.contains("has media type"), "\(planes)")
    }

    // MARK: - Content limits

    @Test func contentIsBoundedBeforeDecoding() throws {
        let limits = ContentLimits.standard
        func blob(stored: Int, content: Int) -> BlobDescriptor {
            BlobDescriptor(digest: Digest.of([1]), size: stored, contentDigest: Digest.of([2]), contentSize: content, encoding: .planes)
        }
        // A fresh LoRA `B` or a zero head: small, all zeros, compresses a thousand to one — accepted.
        try limits.check(blob(stored: 16 << 10, content: 16 << 20), what: "zeros")
        // Real weights compress about 1.1 to 1.
        try limits.check(blob(stored: 900 << 20, content: 1 << 30), what: "weights")
        let bomb = #expect(throws: QuiverError.self) { try limits.check(blob(stored: 24 << 10, content: 24 << 20), what: "layer x") }
        #expect(bomb?.message.contains("ratio over 64") == true, "\(bomb?.message ?? "")")
        let huge = #expect(throws: QuiverError.self) { try limits.check(blob(stored: 63 << 30, content: 65 << 30), what: "layer x") }
        #expect(huge?.message.contains("over the limit") == true, "\(huge?.message ?? "")")
        #expect(throws: QuiverError.self) { try limits.check(blob(stored: Int.max, content: -1), what: "layer x") }
        // Stored as it is: the content is the stored bytes.
        let raw = BlobDescriptor(digest: Digest.of([1]), size: 1, contentDigest: Digest.of([1]), contentSize: 2, encoding: .raw)
        #expect(throws: QuiverError.self) { try limits.check(raw, what: "layer x") }
    }

    // MARK: - Bounded reads

    @Test func smallBlobReadsAreBoundedByTheSizeOnDisk() throws {
        let workspace = try Workspace.withBase()
        let base = try #require(try workspace.registry.baseModels().first)
        let weights = try #require(try workspace.registry.catalog.baseModelFiles(base.id!).first { $0.name == "model.safetensors" })
        let digest = try Digest(parsing: weights.blobDigest)
        let error = #expect(throws: QuiverError.self) { try workspace.registry.blobs.readStored(digest, limit: 4096) }
        #expect(error?.message.contains("over the 4096-byte limit") == true, "\(error?.message ?? "")")
        #expect(try workspace.registry.blobs.readStored(try Digest(parsing: base.manifestDigest), limit: Manifest.sizeLimit).count > 0)
    }

    // MARK: - Imports

    @Test func importStoresWhatWasReceivedAndRefusesLies() throws {
        let published = try Published()
        let destination = try Workspace.withBase()
        let before = try destination.snapshot()
        // A config that claims other labels than the head holds.
        var config = try JSONDecoder().decode(ArtifactConfig.self, from: Data(published.config))
        config.labels = ["good", "bad"]
        var manifest = published.manifest
        manifest.config.digest = Digest.of(config.encoded())
        manifest.config.size = config.encoded().count
        let error = #expect(throws: QuiverError.self) {
            try destination.registry.importArtifact(manifest: manifest.encoded(), config: config.encoded(), task: "sentiment", version: nil) {
                published.path($0)
            }
        }
        #expect(error?.message.contains("config field \"labels\"") == true, "\(error?.message ?? "")")
        // A tag that is not the config's version.
        let tag = #expect(throws: QuiverError.self) {
            try destination.registry.importArtifact(manifest: published.manifestBytes, config: published.config, task: "sentiment", version: "7") {
                published.path($0)
            }
        }
        #expect(tag?.message.contains("config field \"version\" says 1, the tag gives 7") == true, "\(tag?.message ?? "")")
        #expect(try destination.snapshot() == before)
        // The truth goes in as it is.
        let outcome = try destination.registry.importArtifact(manifest: published.manifestBytes, config: published.config, task: "sentiment", version: "1") {
            published.path($0)
        }
        guard case .artifact(let result) = outcome else { Issue.record("not an artifact"); return }
        #expect(result.outcome == .stored && result.artifact.manifestDigest == Digest.of(published.manifestBytes).description)
        #expect(try destination.registry.verify().isIntact)
    }

    @Test func eachArtifactOfAnImportStandsAlone() throws {
        let source = try Workspace.withBase()
        try source.registry.push(Reference(parsing: "sentiment"), folder: source.sample("sentiment"))
        try source.registry.push(Reference(parsing: "topic"), folder: source.sample("topic"))
        let destination = try Workspace.withBase()
        func incoming(_ task: String, requested: Bool = true) throws -> IncomingArtifact {
            let outgoing = try source.registry.outgoing(Reference(parsing: task))
            let config = try source.registry.blobs.readStored(outgoing.blobs[0].digest, limit: 1 << 20)
            return IncomingArtifact(manifest: outgoing.manifest, config: config, task: task, tag: nil, isRequested: requested)
        }
        // The second artifact's config does not match its digest: it fails alone, the first goes in.
        var broken = try incoming("topic")
        broken.config = Array(broken.config.dropLast()) + [0x20]
        let before = try destination.snapshot()
        let mixed = try destination.registry.importArtifacts([incoming("sentiment"), broken]) { source.registry.blobs.path(of: $0.digest) }
        #expect((try? mixed[0].get()) != nil)
        #expect(throws: QuiverError.self) { try mixed[1].get() }
        #expect(try destination.registry.list().map(\.task) == ["sentiment"])
        #expect(try destination.registry.verify().isIntact)
        // A dependency-only artifact is not kept when nothing that goes in needs it.
        let unneeded = try destination.registry.importArtifacts([incoming("topic", requested: false)]) { source.registry.blobs.path(of: $0.digest) }
        #expect(throws: Registry.NotNeeded.self) { try unneeded[0].get() }
        #expect(try destination.registry.list().map(\.task) == ["sentiment"])
        let outcomes = try destination.registry.importArtifacts([incoming("sentiment"), incoming("topic")]) { source.registry.blobs.path(of: $0.digest) }
        #expect(outcomes.allSatisfy { (try? $0.get()) != nil })
        #expect(try destination.registry.list().map(\.task) == ["sentiment", "topic"])
        #expect(try destination.snapshot() != before)
    }

    /// The same content may be held under two encodings once a pull stores a remote's blob as it
    /// is; catalogs made before that allowed one row per content digest.
    @Test func contentMayBeStoredUnderTwoDigests() throws {
        let workspace = try Workspace.withBase()
        let content: [UInt8] = Array("{\"same\": \"content\"}".utf8)
        let raw = Registry.rawDescriptor(content)
        let planes = try content.withUnsafeBytes { try workspace.registry.blobs.write(encoding: .planes, segments: [$0]) }
        try planes.commit()
        try workspace.registry.catalog.database.write { db in
            try BlobRow(raw).insert(db)
            try BlobRow(planes.descriptor).insert(db)
        }
        #expect(try workspace.registry.catalog.blob(contentDigest: raw.contentDigest) != nil)
        let indexes = try workspace.registry.catalog.database.read { db in try db.indexes(on: "blob").map(\.name) }
        #expect(indexes.contains("blob_on_contentDigest"))
    }
}
