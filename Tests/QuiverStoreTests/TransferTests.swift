import Foundation
import Testing
@testable import QuiverStore
import QuiverModel

/// Moving artifacts between two registries through their OCI manifests and blobs — what the hub's
/// client and server do over HTTP.
@Suite struct TransferTests {
    /// Sends `artifact` (dependencies first) from `source` into `destination` the way a pull does.
    func transfer(_ artifact: OutgoingArtifact, from source: Registry, to destination: Registry) throws -> Registry.ImportOutcome {
        for dependency in artifact.dependencies { _ = try transfer(dependency, from: source, to: destination) }
        let configBytes = try source.blobs.readStored(artifact.blobs[0].digest)
        #expect(try destination.missingRequirements(ofManifest: artifact.manifest, config: configBytes).isEmpty)
        let missing = Set(try destination.missingBlobs(ofManifest: artifact.manifest).map(\.digest))
        let isBase = artifact.repository.hasPrefix("base/")
        return try destination.importArtifact(
            manifest: artifact.manifest, config: configBytes, task: isBase ? nil : artifact.repository, version: artifact.tags.first
        ) { layer in
            #expect(missing.contains(layer.digest), "asked for a blob the destination has")
            return source.blobs.path(of: layer.digest)
        }
    }

    @Test func baseAdaptersAndFusionArriveBitIdentical() throws {
        let source = try Workspace.withBase()
        let destination = try Workspace.empty()
        try source.registry.push(Reference(parsing: "sentiment"), folder: source.sample("sentiment"))
        try source.registry.push(Reference(parsing: "topic:v2"), folder: source.sample("topic"))
        try source.registry.importFusion(members: [Reference(parsing: "sentiment"), Reference(parsing: "topic:v2")], as: Reference(parsing: "review"), folder: source.sample("review-fusion"))

        let outgoing = try source.registry.outgoing(Reference(parsing: "review"))
        #expect(outgoing.dependencies.map(\.repository) == ["base/tiny-bert", "sentiment", "topic"])
        guard case .artifact(let result) = try transfer(outgoing, from: source.registry, to: destination.registry) else {
            Issue.record("not an artifact")
            return
        }
        #expect(result.artifact.manifestDigest == outgoing.manifestDigest.description, "manifests are deterministic")
        let here = try destination.registry.list().map { "\($0.task):\($0.version):\($0.digest)" }
        let there = try source.registry.list().map { "\($0.task):\($0.version):\($0.digest)" }
        #expect(here == there)
        #expect(try destination.registry.baseModels().map(\.digest) == source.registry.baseModels().map(\.digest))
        // Bit-identical files out of the destination.
        try destination.registry.export(Reference(parsing: "review"), to: destination.root + "/out")
        for file in ["adapter_fusion_config.json", "model_adapter_fusion.safetensors", "head_config.json", "model_head.safetensors"] {
            #expect(try read(destination.root + "/out/" + file) == read(source.sample("review-fusion") + "/" + file))
        }
        // A second transfer needs no blob.
        #expect(try destination.registry.missingBlobs(ofManifest: outgoing.manifest).isEmpty)
    }

    @Test func damagedBlobIsRefusedAndNothingEnters() throws {
        let source = try Workspace.withBase()
        let destination = try Workspace.withBase()
        try source.registry.push(Reference(parsing: "sentiment"), folder: source.sample("sentiment"))
        let outgoing = try source.registry.outgoing(Reference(parsing: "sentiment"))
        let before = try destination.snapshot()
        let configBytes = try source.registry.blobs.readStored(outgoing.blobs[0].digest)
        #expect(throws: QuiverError.self) {
            try destination.registry.importArtifact(manifest: outgoing.manifest, config: configBytes, task: "sentiment", version: "1") { layer in
                var bytes = try read(source.registry.blobs.path(of: layer.digest))
                bytes[bytes.count / 2] ^= 0x40
                let path = destination.root + "/" + layer.digest.hex
                try write(bytes, to: path)
                return path
            }
        }
        #expect(try destination.snapshot() == before)
    }

    @Test func missingBaseIsReported() throws {
        let source = try Workspace.withBase()
        let destination = try Workspace.empty()
        try source.registry.push(Reference(parsing: "sentiment"), folder: source.sample("sentiment"))
        let outgoing = try source.registry.outgoing(Reference(parsing: "sentiment"))
        let configBytes = try source.registry.blobs.readStored(outgoing.blobs[0].digest)
        let missing = try destination.registry.missingRequirements(ofManifest: outgoing.manifest, config: configBytes)
        #expect(missing == [.base(name: "tiny-bert", digest: try source.registry.baseModels()[0].digest, manifestDigest: outgoing.dependencies[0].manifestDigest)])
    }
}
