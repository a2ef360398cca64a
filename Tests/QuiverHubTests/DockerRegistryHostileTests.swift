import Foundation
@testable import QuiverStore
import QuiverModel
import Testing
@testable import QuiverHub

/// Manifests, configs and layers a hostile or broken publisher can put on a real registry, pulled
/// by Quiver's client: each is refused with one line naming what is wrong, and the local registry
/// stays exactly as it was.
@Suite(.enabled(if: DockerRegistryServer.shouldRun, "docker-registry is not installed"))
struct DockerRegistryHostileTests {
    // MARK: - Publishing what a hostile publisher would

    /// Uploads `blobs` into `repository` (those it lacks) and tags `manifest` there.
    static func publish(_ manifest: [UInt8], blobs: [[UInt8]], repository: String, tag: String, client: DistributionClient) async throws {
        for bytes in blobs where !(try await client.blobExists(Digest.of(bytes), in: repository)) {
            guard case .session(let session, _) = try await client.startUpload(into: repository) else {
                throw TestFailure("the registry mounted a blob nobody asked it to mount")
            }
            try await client.finishUpload(at: session, digest: Digest.of(bytes), bytes: .init(bytes: bytes), repository: repository)
        }
        try await client.putManifest(manifest, digest: Digest.of(manifest), in: repository, reference: tag)
    }

    /// What the tests of a hostile `sentiment` start from.
    struct Scene {
        let server: DockerRegistryServer
        let client: DistributionClient
        let source: Registry
        /// A registry holding only the base model: the pulls go there.
        let destination: Registry
        /// `sentiment` as published (normally) by `source`.
        let manifest: Manifest
        let config: ArtifactConfig
    }

    /// Publishes the sample's `sentiment` on a fresh `docker-registry` and runs `body`.
    static func withPublishedSentiment(options: TransferOptions = TransferOptions(), _ body: (Scene) async throws -> Void) async throws {
        let workspace = try Workspace()
        let source = try workspace.source()
        let destination = try workspace.withBase("destination")
        try await DockerRegistryServer.with { server in
            try await server.withClient(options: options) { client in
                _ = try await RemotePush(registry: source, client: client).push(Reference(parsing: "sentiment"))
                let manifest = try Manifest.decode(try source.outgoing(Reference(parsing: "sentiment")).manifest, source: "test")
                let config = try JSONDecoder().decode(ArtifactConfig.self, from: Data(try readFile(source.blobs.path(of: manifest.config.digest))))
                try await body(Scene(server: server, client: client, source: source, destination: destination, manifest: manifest, config: config))
            }
        }
    }

    /// Pulls `reference` into `destination` and expects a refusal that leaves it unchanged.
    static func expectRefusal(
        _ reference: String, into destination: Registry, client: DistributionClient
    ) async throws -> QuiverError? {
        let before = try Snapshot(destination)
        let error = await #expect(throws: QuiverError.self) {
            try await RemotePull(registry: destination, client: client).pull(Reference(parsing: reference))
        }
        let after = try Snapshot(destination)
        #expect(after == before, "\(after)")
        #expect(error?.message.contains("\n") == false)
        return error
    }

    // MARK: - Item 7: decompression bombs

    @Test func compressionBombIsRefusedBeforeItIsDownloaded() async throws {
        // 24 MiB of zeros deflate to a few KiB: far past any ratio a real weights file shows.
        let scratch = try Workspace()
        let store = BlobStore(home: scratch.root)
        let zeros = [UInt8](repeating: 0, count: 24 << 20)
        let pending = try zeros.withUnsafeBytes { try store.write(encoding: .planes, segments: [$0], elementWidth: 4) }
        try pending.commit()
        let bomb = try readFile(store.path(of: pending.descriptor.digest))
        try await Self.withPublishedSentiment { scene in
            var manifest = scene.manifest
            let index = try #require(manifest.layers.firstIndex { $0.annotations?[AnnotationKey.title] == "adapter.safetensors" })
            manifest.layers[index].digest = pending.descriptor.digest
            manifest.layers[index].size = bomb.count
            manifest.layers[index].annotations?[AnnotationKey.contentDigest] = pending.descriptor.contentDigest.description
            manifest.layers[index].annotations?[AnnotationKey.contentSize] = String(zeros.count)
            try await Self.publish(manifest.encoded(), blobs: [bomb], repository: "quiver/sentiment", tag: "1", client: scene.client)
            let requestsBefore = try await scene.server.requests().count
            let error = try await Self.expectRefusal("sentiment:1", into: scene.destination, client: scene.client)
            #expect(error?.message.contains("adapter.safetensors") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("ratio") == true, "\(error?.message ?? "")")
            let later = try await scene.server.requests().dropFirst(requestsBefore)
            #expect(!later.contains { $0.contains(pending.descriptor.digest.hex) }, "the bomb was downloaded: \(later)")
        }
    }

    // MARK: - Item 8: a config digest naming a large local blob

    @Test func configNamingALargeLocalBlobIsReadWithinTheLimit() async throws {
        let options = TransferOptions(configLimit: 64 << 10)
        try await Self.withPublishedSentiment(options: options) { scene in
            let base = try #require(try scene.destination.baseModels().first)
            let weights = try #require(try scene.destination.catalog.baseModelFiles(base.id!).first { $0.name == "model.safetensors" })
            let weightsDigest = try Digest(parsing: weights.blobDigest)
            let weightsBytes = try readFile(scene.destination.blobs.path(of: weightsDigest))
            #expect(weightsBytes.count > options.configLimit)
            var manifest = scene.manifest
            manifest.config.digest = weightsDigest
            manifest.config.size = 100
            try await Self.publish(manifest.encoded(), blobs: [weightsBytes], repository: "quiver/sentiment", tag: "1", client: scene.client)
            let error = try await Self.expectRefusal("sentiment:1", into: scene.destination, client: scene.client)
            #expect(error?.message.contains("\(weightsDigest)") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("over the 65536-byte limit") == true, "\(error?.message ?? "")")
        }
    }

    // MARK: - Item 10: what is pulled is what was asked for, or nothing

    @Test func pulledManifestIsStoredExactlyAsReceived() async throws {
        try await Self.withPublishedSentiment { scene in
            // The same manifest as another tool may write it: indented, keys in another order.
            let object = try JSONSerialization.jsonObject(with: Data(scene.manifest.encoded()))
            let bytes = [UInt8](try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted]))
            #expect(bytes != scene.manifest.encoded())
            try await Self.publish(bytes, blobs: [], repository: "quiver/sentiment", tag: "1", client: scene.client)
            let report = try await RemotePull(registry: scene.destination, client: scene.client).pull(Reference(parsing: "sentiment:1"))
            #expect(report.imported.last?.digest == Digest.of(bytes))
            let stored = try #require(try scene.destination.catalog.artifact(Reference(parsing: "sentiment:1")))
            #expect(stored.manifestDigest == Digest.of(bytes).description)
            #expect(try readFile(scene.destination.blobs.path(of: Digest.of(bytes))) == bytes)
            #expect(try scene.destination.verify().isIntact)
        }
    }

    @Test func failedFusionPullLeavesBaseAndMembersOut() async throws {
        let workspace = try Workspace()
        let source = try workspace.source()
        let destination = try workspace.empty("destination")
        try await DockerRegistryServer.with { server in
            try await server.withClient { client in
                _ = try await RemotePush(registry: source, client: client).push(Reference(parsing: "review"))
                var manifest = try Manifest.decode(try source.outgoing(Reference(parsing: "review")).manifest, source: "test")
                // A fusion config naming three adapters, where the fusion has two members.
                let index = try #require(manifest.layers.firstIndex { $0.annotations?[AnnotationKey.title] == "adapter_fusion_config.json" })
                var object = try JSONSerialization.jsonObject(with: Data(try readFile(source.blobs.path(of: manifest.layers[index].digest)))) as! [String: Any]
                object["adapter_names"] = ["sentiment", "topic", "third"]
                let layer = [UInt8](try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
                manifest.layers[index].digest = Digest.of(layer)
                manifest.layers[index].size = layer.count
                manifest.layers[index].annotations?[AnnotationKey.contentDigest] = Digest.of(layer).description
                manifest.layers[index].annotations?[AnnotationKey.contentSize] = String(layer.count)
                try await Self.publish(manifest.encoded(), blobs: [layer], repository: "quiver/review", tag: "1", client: client)
                let error = try await Self.expectRefusal("review:1", into: destination, client: client)
                #expect(error?.message.contains("adapter_fusion_config.json") == true, "\(error?.message ?? "")")
            }
        }
        #expect(try destination.list().isEmpty && destination.baseModels().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: destination.blobs.blobsDirectory).isEmpty)
    }

    @Test func duplicateKeysInAManifestAreRefused() async throws {
        try await Self.withPublishedSentiment { scene in
            // Foundation's decoder would take the second "config" and never see the first.
            let decoy = #"{"config":{"mediaType":"application/json","digest":"sha256:\#(String(repeating: "0", count: 64))","size":2},"#
            let bytes = Array(decoy.utf8) + scene.manifest.encoded().dropFirst()
            try await Self.publish(bytes, blobs: [], repository: "quiver/sentiment", tag: "1", client: scene.client)
            let error = try await Self.expectRefusal("sentiment:1", into: scene.destination, client: scene.client)
            #expect(error?.message.contains("duplicate key \"config\"") == true, "\(error?.message ?? "")")
        }
    }

    @Test func configClaimsThatDisagreeWithTheWeightsAreRefused() async throws {
        try await Self.withPublishedSentiment { scene in
            var (manifest, config) = (scene.manifest, scene.config)
            config.parameters = 1
            let configBytes = config.encoded()
            manifest.config.digest = Digest.of(configBytes)
            manifest.config.size = configBytes.count
            manifest.annotations?[AnnotationKey.parameters] = "1"
            try await Self.publish(manifest.encoded(), blobs: [configBytes], repository: "quiver/sentiment", tag: "1", client: scene.client)
            let error = try await Self.expectRefusal("sentiment:1", into: scene.destination, client: scene.client)
            #expect(error?.message.contains("\"parameters\"") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("8736") == true, "\(error?.message ?? "")")
        }
    }
}
