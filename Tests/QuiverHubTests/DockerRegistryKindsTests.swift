import Foundation
import QuiverHub
import QuiverModel
import QuiverStore
import Testing

/// Bases of other families and adapter kinds the engine does not run travel through a real OCI registry like any
/// other: a sharded BF16 Llama, a GPT-2 read from sharded `.bin` files (tied weights), PEFT LoKr, IA³ (from `.bin`)
/// and an unknown peft_type on them.
@Suite(.enabled(if: DockerRegistryServer.shouldRun, "docker-registry is not installed"))
struct DockerRegistryKindsTests {
    /// The storage fixtures of Tests/QuiverStoreTests (made by scripts/fixtures/make_kind_fixtures.py).
    static let kinds = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("QuiverStoreTests/Fixtures/kinds").path

    @Test func foreignBasesAndKindsArriveIdentical() async throws {
        let workspace = try Workspace()
        let source = try workspace.empty("source")
        let destination = try workspace.empty("destination")
        try source.addBase(folder: Self.kinds + "/bases/llama-bf16-sharded", name: "llama")
        try source.addBase(folder: Self.kinds + "/bases/gpt2-sharded-bin", name: "gpt2")
        try source.push(Reference(parsing: "lokr"), folder: Self.kinds + "/adapters/peft-llama-lokr", baseName: "llama")
        try source.push(Reference(parsing: "ia3"), folder: Self.kinds + "/adapters/peft-llama-ia3-bin", baseName: "llama")
        try source.push(Reference(parsing: "opaque"), folder: Self.kinds + "/negatives/peft-unknown-type", baseName: "gpt2")
        try await DockerRegistryServer.with { server in
            try await server.withClient { client in
                for task in ["lokr", "ia3", "opaque"] {
                    _ = try await RemotePush(registry: source, client: client).push(Reference(parsing: task))
                    _ = try await RemotePull(registry: destination, client: client).pull(Reference(parsing: task))
                }
            }
        }
        func rows(_ registry: Registry) throws -> [String] {
            try registry.list().map { "\($0.task):\($0.architecture):\($0.parameters)+\($0.headParameters):\($0.runnable):\($0.digest)" }
        }
        #expect(try rows(destination) == rows(source))
        func bases(_ registry: Registry) throws -> [String] {
            try registry.baseModels().map { "\($0.name):\($0.modelType):\($0.dtype):\($0.parameters):\($0.runnable):\($0.manifestDigest)" }
        }
        #expect(try bases(destination) == bases(source))
        #expect(try destination.baseModel(named: "gpt2")?.parameters == 11904)  // tied names counted once after the trip
        for base in ["llama", "gpt2"] {
            let here = workspace.root + "/here-" + base, there = workspace.root + "/there-" + base
            let written = try source.exportBase(named: base, to: there)
            try destination.exportBase(named: base, to: here)
            for file in written { #expect(try readFile(here + "/" + file) == readFile(there + "/" + file), "\(base)/\(file)") }
        }
        #expect(try destination.verify().isIntact)
    }
}
