import Foundation
import QuiverHub
import QuiverStore
import QuiverModel
import Testing

/// Pulls that must leave the local registry as it was, and pulls that resume.
@Suite(.enabled(if: DockerRegistryServer.shouldRun, "docker-registry is not installed"))
struct DockerRegistryPullTests {
    /// The largest layer of an artifact in the source registry.
    func largestLayer(of reference: String, in registry: Registry) throws -> Descriptor {
        let manifest = try Manifest.decode(try registry.outgoing(Reference(parsing: reference)).manifest, source: "test")
        return manifest.layers.max { $0.size < $1.size }!
    }

    @Test func damagedBlobOnTheRemoteIsRefusedAndNothingIsStored() async throws {
        let workspace = try Workspace()
        try await DockerRegistryServer.with { server in
            try await RemoteScenarios.damagedBlobIsRefusedAndNothingIsStored(server, workspace: workspace)
        }
    }

    @Test func batchesStandEachVersionAlone() async throws {
        let workspace = try Workspace()
        try await DockerRegistryServer.with { server in
            try await RemoteScenarios.batchesStandEachVersionAlone(server, workspace: workspace)
        }
    }

    @Test func damagedBaseOnTheRemoteLeavesAFreshRegistryEmpty() async throws {
        let workspace = try Workspace()
        let source = try workspace.source()
        let destination = try workspace.empty("destination")
        try await DockerRegistryServer.with { server in
            let pushed = try await server.withClient { client in
                try await RemotePush(registry: source, client: client).push(Reference(parsing: "review"))
            }
            let baseManifest = try await server.withClient { client in
                try await client.manifest(of: "quiver/base/tiny-bert", reference: pushed.published[0].digest.description)
            }
            let weights = try Manifest.decode(try #require(baseManifest).bytes, source: "test").layers.max { $0.size < $1.size }!
            try server.damageBlob(weights.digest.hex)
            let before = try Snapshot(destination)
            await #expect(throws: QuiverError.self) {
                try await server.withClient { client in
                    try await RemotePull(registry: destination, client: client).pull(Reference(parsing: "review"))
                }
            }
            let after = try Snapshot(destination)
            #expect(after == before, "\(after)")
            #expect(try destination.list().isEmpty && destination.baseModels().isEmpty)
        }
    }

    @Test func missingBaseWithNoBaseIsAnErrorBeforeAnyDownload() async throws {
        let workspace = try Workspace()
        let source = try workspace.source()
        let destination = try workspace.empty("destination")
        try await DockerRegistryServer.with { server in
            try await server.withClient { client in
                _ = try await RemotePush(registry: source, client: client).push(Reference(parsing: "sentiment"))
                let before = try await server.requests().count
                let error = await #expect(throws: QuiverError.self) {
                    try await RemotePull(registry: destination, client: client).pull(Reference(parsing: "sentiment"), pullBase: false)
                }
                #expect(error?.kind == .notFound)
                #expect(error?.message.contains("needs base model tiny-bert") == true, "\(error?.message ?? "")")
                let later = try await server.requests().dropFirst(before)
                #expect(!later.contains { $0.contains("/blobs/") && !$0.hasPrefix("GET /v2/quiver/sentiment/blobs/") }, "only the config was read")
            }
            #expect(try destination.list().isEmpty)
        }
    }

    @Test func unknownTagIsNamed() async throws {
        let workspace = try Workspace()
        let destination = try workspace.empty("destination")
        try await DockerRegistryServer.with { server in
            let error = await #expect(throws: QuiverError.self) {
                try await server.withClient { client in
                    try await RemotePull(registry: destination, client: client).pull(Reference(parsing: "sentiment:7"))
                }
            }
            #expect(error?.kind == .notFound)
            #expect(error?.message == "\(server.url)/quiver has no sentiment:7")
        }
    }

    @Test func interruptedDownloadResumesWithARangeRequest() async throws {
        let workspace = try Workspace()
        let source = try workspace.source()
        let destination = try workspace.withBase("destination")
        let layer = try largestLayer(of: "sentiment", in: source)
        // What an interrupted earlier pull left: the first 40% of the layer.
        let bytes = try readFile(source.blobs.path(of: layer.digest))
        let kept = bytes.count * 2 / 5
        let part = destination.blobs.temporaryDirectory + "/download-\(layer.digest.hex).part"
        try Data(bytes[0..<kept]).write(to: URL(fileURLWithPath: part))
        try await DockerRegistryServer.with { server in
            try await server.withClient { client in
                _ = try await RemotePush(registry: source, client: client).push(Reference(parsing: "sentiment"))
                let report = try await RemotePull(registry: destination, client: client).pull(Reference(parsing: "sentiment"))
                #expect(report.bytesResumed == kept)
                let layers = try Manifest.decode(try source.outgoing(Reference(parsing: "sentiment")).manifest, source: "test").layers
                #expect(report.bytesDownloaded == layers.reduce(0) { $0 + $1.size } - kept)
            }
        }
        #expect(!FileManager.default.fileExists(atPath: part))
        #expect(try destination.verify().isIntact)
        #expect(try Snapshot(destination).temporaryFiles.isEmpty)
    }

    @Test func staleBytesFromAnEarlierDownloadAreReplaced() async throws {
        let workspace = try Workspace()
        let source = try workspace.source()
        let destination = try workspace.withBase("destination")
        let layer = try largestLayer(of: "sentiment", in: source)
        let part = destination.blobs.temporaryDirectory + "/download-\(layer.digest.hex).part"
        try Data(repeating: 0x5A, count: layer.size / 2).write(to: URL(fileURLWithPath: part))
        try await DockerRegistryServer.with { server in
            try await server.withClient { client in
                _ = try await RemotePush(registry: source, client: client).push(Reference(parsing: "sentiment"))
                let report = try await RemotePull(registry: destination, client: client).pull(Reference(parsing: "sentiment"))
                #expect(report.bytesResumed == 0)
                #expect(report.imported.last?.outcome == .stored)
            }
        }
        #expect(try destination.verify().isIntact)
        #expect(try Snapshot(destination).temporaryFiles.isEmpty)
    }
}
