import Foundation
import QuiverHub
import QuiverStore
import QuiverModel
import Testing

/// What every remote must do with Quiver's client, run against Debian's `docker-registry` (the
/// `DockerRegistry*Tests`) and against `quiver serve` (`ServeClientTests`).
enum RemoteScenarios {
    /// `quiver push --to`, `push` again (nothing sent), `list --remote`, `pull --from --output`
    /// (bit-identical files) and a missing tag, all through the built executable.
    ///
    /// - Parameter token: given to the publisher as `QUIVER_TOKEN` with `QUIVER_REMOTE` naming the
    ///   server (a server that needs it to write).
    static func commandLineRoundTrip(_ server: some RemoteTestServer, workspace: Workspace, token: String? = nil) async throws {
        _ = try workspace.source("source")
        let publisher = QuiverProcess(home: workspace.root + "/source")
        let consumer = QuiverProcess(home: workspace.root + "/consumer")
        let remote = server.url + "/quiver"
        let credentials = token.map { ["QUIVER_TOKEN": $0, "QUIVER_REMOTE": remote] } ?? [:]
        #expect(try await publisher.runDetached(["remote", "add", "hub", remote]).status == 0)
        let pushed = try await publisher.runDetached(["push", "review", "--to", "hub"], environment: credentials)
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(pushed.stdout.contains("pushed base/tiny-bert:latest") && pushed.stdout.contains("pushed review:1,latest"), "\(pushed.stdout)")
        #expect(pushed.stderr.contains("uploaded review/adapter_fusion_config.json"), "plain progress lines off a terminal: \(pushed.stderr)")
        let again = try await publisher.runDetached(["push", "review"], environment: credentials.merging(["QUIVER_REMOTE": remote]) { $1 })
        #expect(again.stdout.contains("up to date: review:1,latest") && again.stdout.contains("0 blobs uploaded"), "\(again.stdout)")

        let listed = try await consumer.runDetached(["list", "--remote", remote, "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]], "\(listed.stdout)")
        #expect(entries.map { "\($0["repository"]!):\($0["tag"]!)" }.contains("sentiment:latest"))
        #expect(entries.first { $0["repository"] as? String == "sentiment" }?["parameters"] as? Int == 8736)
        let table = try await consumer.runDetached(["list", "--remote", remote])
        #expect(table.stdout.contains("REPOSITORY") && table.stdout.contains("8,736"), "\(table.stdout)")

        let pulled = try await consumer.runDetached(["pull", "review", "--from", remote, "--output", workspace.root + "/out"])
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(pulled.stdout.contains("pulled base model tiny-bert") && pulled.stdout.contains("wrote review:1 to"), "\(pulled.stdout)")
        for file in ["adapter_fusion_config.json", "model_adapter_fusion.safetensors", "head_config.json", "model_head.safetensors"] {
            #expect(try readFile(workspace.root + "/out/" + file) == readFile(Samples.folder("review-fusion") + "/" + file))
        }
        let consumed = try Registry(home: workspace.root + "/consumer")
        let source = try Registry(home: workspace.root + "/source")
        #expect(try consumed.list().map { "\($0.task):\($0.version):\($0.digest)" } == source.list().map { "\($0.task):\($0.version):\($0.digest)" })
        #expect(try consumed.verify().isIntact)
        let missing = try await consumer.runDetached(["pull", "nothing", "--from", remote])
        #expect(missing.status == 3 && missing.stderr == "quiver: \(remote) has no nothing:latest\n", "\(missing.stderr)")

        // Many at once: --all both ways, and named tasks with one the remote lacks.
        let pushedAll = try await publisher.runDetached(["push", "--all", "--to", "hub"], environment: credentials)
        #expect(pushedAll.status == 0 && pushedAll.stdout.contains("0 blobs uploaded"), "\(pushedAll.stdout)\(pushedAll.stderr)")
        let everything = QuiverProcess(home: workspace.root + "/everything")
        let pulledAll = try await everything.runDetached(["pull", "--all", "--from", remote])
        #expect(pulledAll.status == 0, "\(pulledAll.stderr)")
        #expect(pulledAll.stdout.contains("pulled review:1") && pulledAll.stdout.contains("pulled topic:1"), "\(pulledAll.stdout)")
        #expect(pulledAll.stderr.contains("pulled 3 of 3"), "progress counts versions: \(pulledAll.stderr)")
        let some = QuiverProcess(home: workspace.root + "/some")
        let partly = try await some.runDetached(["pull", "sentiment", "nothing", "topic:1", "--from", remote])
        #expect(partly.status == 3, "\(partly.stderr)")
        #expect(partly.stdout.contains("pulled sentiment:1") && partly.stdout.contains("pulled topic:1"), "\(partly.stdout)")
        #expect(partly.stderr.contains("quiver: nothing:latest: \(remote) has no nothing:latest\n"), "\(partly.stderr)")
        #expect(partly.stderr.hasSuffix("quiver: 1 of 3 could not be pulled (above)\n"), "\(partly.stderr)")
    }

    /// Sixteen clients at once — eight publish a task each and the fusion again (shared base and
    /// members), eight pull an adapter — then sixteen pulls of the new tasks at once. No error, and
    /// every pulled version has the published manifest digest and verifies.
    ///
    /// - Parameter options: the transfer options of client `index` (e.g. chunked uploads for some).
    static func sixteenClientsPushAndPull(
        _ server: some RemoteTestServer, workspace: Workspace, options: @escaping @Sendable (Int) -> TransferOptions = { _ in TransferOptions() }
    ) async throws {
        let source = try workspace.source()
        for index in 0..<8 {
            try source.push(Reference(parsing: "task-\(index)"), folder: Samples.folder(index % 2 == 0 ? "sentiment" : "topic"), description: "copy \(index)")
        }
        // Destinations hold the base model already: the test is about the protocol, not the codec.
        let destinations = try (0..<16).map { try workspace.withBase("destination-\($0)") }
        try await server.withClient { client in
            _ = try await RemotePush(registry: source, client: client).push(Reference(parsing: "review"))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<16 {
                group.addTask {
                    try await server.withClient(options: options(index)) { client in
                        if index % 2 == 0 {
                            _ = try await RemotePush(registry: source, client: client).push(Reference(parsing: "task-\(index / 2)"))
                            _ = try await RemotePush(registry: source, client: client).push(Reference(parsing: "review"))
                        } else {
                            let task = index % 4 == 1 ? "sentiment" : "topic"
                            let report = try await RemotePull(registry: destinations[index], client: client).pull(Reference(parsing: task))
                            #expect(report.imported.map(\.name) == ["\(task):1"])
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, destination) in destinations.enumerated() {
                group.addTask {
                    try await server.withClient(options: options(index)) { client in
                        let report = try await RemotePull(registry: destination, client: client).pull(Reference(parsing: "task-\(index % 8)"))
                        #expect(report.imported.last?.name == "task-\(index % 8):1")
                    }
                }
            }
            try await group.waitForAll()
        }
        let published = Dictionary(uniqueKeysWithValues: try source.list().map { ($0.task, $0.digest) })
        for (index, destination) in destinations.enumerated() {
            let task = "task-\(index % 8)"
            #expect(try destination.list().first { $0.task == task }?.digest == published[task])
            let report = try destination.verify()
            #expect(report.isIntact, "destination \(index): \(report)")
        }
    }

    /// A layer damaged on the remote: the pull fails naming the damage, and the local registry is
    /// exactly as it was.
    static func damagedBlobIsRefusedAndNothingIsStored(_ server: some RemoteTestServer, workspace: Workspace) async throws {
        let source = try workspace.source()
        let destination = try workspace.withBase("destination")
        try await server.withClient { client in
            _ = try await RemotePush(registry: source, client: client).push(Reference(parsing: "sentiment"))
        }
        let manifest = try Manifest.decode(try source.outgoing(Reference(parsing: "sentiment")).manifest, source: "test")
        try server.damageBlob(manifest.layers.max { $0.size < $1.size }!.digest.hex)
        let before = try Snapshot(destination)
        let error = await #expect(throws: QuiverError.self) {
            try await server.withClient { client in
                try await RemotePull(registry: destination, client: client).pull(Reference(parsing: "sentiment"))
            }
        }
        #expect(error?.kind == .corrupt, "\(error?.message ?? "")")
        #expect(error?.message.contains("is damaged") == true, "\(error?.message ?? "")")
        let after = try Snapshot(destination)
        #expect(after == before, "\(after)")
    }

    /// Several versions in one push and one pull: everything arrives once; re-sending sends no blob;
    /// then, with one layer of `topic` damaged on the remote, a pull of several versions imports
    /// the ones that are whole and reports the others — `topic` (damaged), the fusion over it, and a
    /// task the remote lacks — leaving nothing of them behind.
    static func batchesStandEachVersionAlone(_ server: some RemoteTestServer, workspace: Workspace) async throws {
        let source = try workspace.source()
        let everything = try workspace.empty("everything")
        let some = try workspace.empty("some")
        let tasks = ["review", "sentiment", "topic"]
        try await server.withClient { client in
            let pushed = try await RemotePush(registry: source, client: client).push(tasks.map { try Reference(parsing: $0) })
            #expect(pushed.failed.isEmpty && pushed.blobsUploaded > 0)
            let again = try await RemotePush(registry: source, client: client).pushAll()
            #expect(again.failed.isEmpty && again.bytesUploaded == 0 && again.published.allSatisfy(\.upToDate))

            let all = try await RemotePull(registry: everything, client: client).pullAll()
            #expect(all.failed.isEmpty, "\(all.failed.map { "\($0.name): \($0.error)" })")
            #expect(Set(try everything.list().map(\.task)) == Set(tasks))
            #expect(all.imported.first?.kind == .base && all.imported.filter { $0.kind == .base }.count == 1)
            let repeated = try await RemotePull(registry: everything, client: client).pullAll()
            #expect(repeated.failed.isEmpty && repeated.bytesDownloaded == 0 && repeated.imported.allSatisfy { $0.outcome == .unchanged })
        }
        #expect(try everything.verify().isIntact)

        let sentimentLayers = Set(try Manifest.decode(try source.outgoing(Reference(parsing: "sentiment")).manifest, source: "test").layers.map(\.digest))
        let topic = try Manifest.decode(try source.outgoing(Reference(parsing: "topic")).manifest, source: "test")
        try server.damageBlob(topic.layers.filter { !sentimentLayers.contains($0.digest) }.max { $0.size < $1.size }!.digest.hex)
        let report = try await server.withClient { client in
            try await RemotePull(registry: some, client: client).pull(
                ["sentiment", "topic", "review", "absent"].map { PullRequest(try Reference(parsing: $0)) })
        }
        #expect(report.imported.map(\.name) == ["tiny-bert", "sentiment:1"], "\(report.imported)")
        let failures = Dictionary(uniqueKeysWithValues: report.failed.map { ($0.name, "\($0.error)") })
        #expect(failures.keys.sorted() == ["absent:latest", "review:latest", "topic:latest"], "\(failures)")
        #expect(failures["topic:latest"]?.contains("is damaged") == true, "\(failures)")
        #expect(failures["review:latest"]?.contains("is damaged") == true, "the fusion fails with its member: \(failures)")
        #expect(failures["absent:latest"]?.contains("has no absent:latest") == true, "\(failures)")
        #expect(try some.list().map(\.task) == ["sentiment"])
        #expect(try some.verify().isIntact)
    }
}
