import Foundation
import QuiverHub
import QuiverStore
import QuiverModel
import Testing

/// Push and pull against a real CNCF distribution registry (Debian's `docker-registry`).
@Suite(.enabled(if: DockerRegistryServer.shouldRun, "docker-registry is not installed"))
struct DockerRegistryRoundTripTests {
    @Test func baseAdaptersAndFusionArriveBitIdentical() async throws {
        let workspace = try Workspace()
        let source = try workspace.source()
        let destination = try workspace.empty("destination")
        try await DockerRegistryServer.with { server in
            let pushed = try await server.withClient(options: chunkedOptions) { client in
                try await RemotePush(registry: source, client: client).push(Reference(parsing: "review"))
            }
            #expect(pushed.published.map(\.repository) == ["base/tiny-bert", "sentiment", "topic", "review"])
            #expect(pushed.published.allSatisfy { !$0.upToDate })
            #expect(pushed.blobsUploaded > 0 && pushed.blobsPresent == 0)
            // Chunked: the base model's weights went in several PATCHes.
            let requests = try await server.requests()
            #expect(requests.filter { $0.hasPrefix("PATCH ") }.count > 2, "\(requests)")

            let pulled = try await server.withClient { client in
                try await RemotePull(registry: destination, client: client).pull(Reference(parsing: "review"))
            }
            #expect(pulled.imported.map(\.repository) == ["base/tiny-bert", "sentiment", "topic", "review"])
            #expect(pulled.imported.map(\.outcome) == [.added, .stored, .stored, .stored])
            #expect(pulled.imported.last?.digest == pushed.published.last?.digest)
        }
        // Same versions, manifests and base model on both sides.
        let there = try source.list().map { "\($0.task):\($0.version):\($0.digest):\($0.tags)" }
        let here = try destination.list().map { "\($0.task):\($0.version):\($0.digest):\($0.tags)" }
        #expect(here == there)
        #expect(try destination.baseModels().map(\.manifestDigest) == source.baseModels().map(\.manifestDigest))
        // Files out of the destination equal the sample folders, bit for bit.
        for (task, sample) in [("sentiment", "sentiment"), ("topic", "topic"), ("review", "review-fusion")] {
            let output = workspace.root + "/out-" + task
            let result = try destination.export(Reference(parsing: task), to: output)
            for file in result.files where file != "quiver.json" {
                #expect(try readFile(output + "/" + file) == readFile(Samples.folder(sample) + "/" + file), "\(task)/\(file)")
            }
        }
        #expect(try destination.verify().isIntact)
    }

    @Test func secondPushAndPullTransferNoBlob() async throws {
        let workspace = try Workspace()
        let source = try workspace.source()
        let destination = try workspace.empty("destination")
        try await DockerRegistryServer.with { server in
            try await server.withClient { client in
                _ = try await RemotePush(registry: source, client: client).push(Reference(parsing: "review"))
                _ = try await RemotePull(registry: destination, client: client).pull(Reference(parsing: "review"))
            }
            let before = try await server.requests().count
            let (push, pull) = try await server.withClient { client in
                (try await RemotePush(registry: source, client: client).push(Reference(parsing: "review")),
                 try await RemotePull(registry: destination, client: client).pull(Reference(parsing: "review")))
            }
            #expect(push.published.allSatisfy { $0.upToDate })
            #expect(push.blobsUploaded == 0 && push.bytesUploaded == 0 && push.blobsMounted == 0)
            #expect(pull.blobsDownloaded == 0 && pull.bytesDownloaded == 0)
            #expect(pull.imported.map(\.outcome) == [.unchanged], "the fusion's requirements are all here: only it is looked at")
            // The registry's own log: no upload and no blob read after the first round.
            let later = try await server.requests().dropFirst(before)
            #expect(!later.contains { $0.hasPrefix("POST ") || $0.hasPrefix("PATCH ") || $0.contains("/blobs/") }, "\(Array(later))")
            #expect(later.allSatisfy { $0.contains("/manifests/") }, "\(Array(later))")
        }
    }

    @Test func anotherTaskWithTheSameLayersMountsThem() async throws {
        let workspace = try Workspace()
        let source = try workspace.source()
        try source.push(Reference(parsing: "sentiment-copy"), folder: Samples.folder("sentiment"))
        try await DockerRegistryServer.with { server in
            try await server.withClient { client in
                _ = try await RemotePush(registry: source, client: client).push(Reference(parsing: "sentiment"))
                let copy = try await RemotePush(registry: source, client: client).push(Reference(parsing: "sentiment-copy"))
                let layers = try Manifest.decode(try source.outgoing(Reference(parsing: "sentiment")).manifest, source: "test").layers.count
                #expect(copy.blobsMounted == layers)
                #expect(copy.blobsUploaded == 1, "only the config differs (it names the task)")
            }
            let mounts = try await server.requests().filter { $0.contains("mount=") }
            #expect(mounts.contains { $0.hasSuffix(" 201") })
        }
    }

    @Test func tagsAndCatalogDescribeTheRemote() async throws {
        let workspace = try Workspace()
        let source = try workspace.source()
        try source.push(Reference(parsing: "sentiment:v2"), folder: Samples.folder("topic"), force: false)
        try await DockerRegistryServer.with { server in
            try await server.withClient { client in
                _ = try await RemotePush(registry: source, client: client).push(Reference(parsing: "review"))
                _ = try await RemotePush(registry: source, client: client).push(Reference(parsing: "sentiment:v2"))
                #expect(try await client.tags(of: "quiver/sentiment").sorted() == ["1", "latest", "v2"])
                #expect(try await client.tags(of: "quiver/sentiment", pageSize: 1).sorted() == ["1", "latest", "v2"])
                #expect(try await client.tags(of: "quiver/nothing-here").isEmpty)
            }
            // Another namespace on the same registry is not listed as ours.
            try await server.withClient(namespace: "other") { client in
                _ = try await RemotePush(registry: source, client: client).push(Reference(parsing: "topic"))
            }
            try await server.withClient { client in
                let catalog = try await client.catalog(pageSize: 1)
                #expect(catalog == ["other/base/tiny-bert", "other/topic", "quiver/base/tiny-bert", "quiver/review", "quiver/sentiment", "quiver/topic"])

                let entries = try await RemoteCatalog(client: client).entries()
                #expect(entries.map { "\($0.repository):\($0.tag)" } == [
                    "base/tiny-bert:latest", "review:1", "review:latest", "sentiment:1", "sentiment:latest", "sentiment:v2", "topic:1", "topic:latest",
                ])
                let local = Dictionary(uniqueKeysWithValues: try source.list().map { ("\($0.task):\($0.version)", $0) })
                for entry in entries where entry.kind != .base {
                    let row = try #require(local["\(entry.task!):\(entry.version!)"])
                    #expect(entry.kind == ManifestKind(row.kind) && entry.architecture == row.architecture.rawValue)
                    #expect(entry.parameters == row.parameters && entry.headParameters == row.headParameters)
                    #expect(entry.base == "tiny-bert" && entry.digest == row.digest)
                }
                #expect(entries.first { $0.repository == "review" }?.members?.count == 2)
                #expect(entries.first?.kind == .base && (entries.first?.parameters ?? 0) > 0)
            }
        }
    }
}
