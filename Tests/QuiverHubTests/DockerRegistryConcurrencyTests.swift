import Foundation
import QuiverHub
import QuiverStore
import Testing

/// Many clients at once against one registry.
@Suite(.enabled(if: DockerRegistryServer.shouldRun, "docker-registry is not installed"))
struct DockerRegistryConcurrencyTests {
    @Test func sixteenClientsPushAndPullWithoutError() async throws {
        let workspace = try Workspace()
        let source = try workspace.source()
        for index in 0..<8 {
            try source.push(Reference(parsing: "task-\(index)"), folder: Samples.folder(index % 2 == 0 ? "sentiment" : "topic"), description: "copy \(index)")
        }
        // Destinations hold the base model already: the test is about the protocol, not the codec.
        let destinations = try (0..<16).map { try workspace.withBase("destination-\($0)") }
        try await DockerRegistryServer.with { server in
            try await server.withClient { client in
                _ = try await RemotePush(registry: source, client: client).push(Reference(parsing: "review"))
            }
            // Sixteen clients at once: eight publish a task each (and the fusion again, with its
            // shared base and members), eight pull an adapter.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<16 {
                    group.addTask {
                        try await server.withClient { client in
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
            // Then sixteen pulls of the eight new tasks at once.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, destination) in destinations.enumerated() {
                    group.addTask {
                        try await server.withClient { client in
                            let report = try await RemotePull(registry: destination, client: client).pull(Reference(parsing: "task-\(index % 8)"))
                            #expect(report.imported.last?.name == "task-\(index % 8):1")
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let published = Dictionary(uniqueKeysWithValues: try source.list().map { ($0.task, $0.digest) })
        for (index, destination) in destinations.enumerated() {
            let here = try destination.list()
            let task = "task-\(index % 8)"
            #expect(here.first { $0.task == task }?.digest == published[task])
        }
        #expect(try destinations[1].verify().isIntact)
    }
}
