import Foundation
import QuiverHub
import QuiverStore
import QuiverModel
import QuiverTestServers
import Testing

/// `gc` in a loop while `quiver` processes pull and push into the same registry: temporary files
/// belong to their live owner by a lock, so `gc` removes only abandoned ones and nobody fails.
@Suite(.enabled(if: DockerRegistryServer.shouldRun, "docker-registry is not installed"))
struct ConcurrentCollectionTests {
    @Test func gcInALoopBesideTenPullsAndTenPushes() async throws {
        let workspace = try Workspace()
        let source = try workspace.source()
        let folders = ["sentiment", "topic", "language-id", "entailment", "paraphrase-peft"]
        for index in 0..<10 {
            try source.push(Reference(parsing: "task-\(index)"), folder: Samples.folder(folders[index % folders.count]), description: "copy \(index)")
        }
        _ = try workspace.withBase("destination")
        let destination = QuiverProcess(home: workspace.root + "/destination")
        try await DockerRegistryServer.with { server in
            try await server.withClient { client in
                for index in 0..<10 { _ = try await RemotePush(registry: source, client: client).push(Reference(parsing: "task-\(index)")) }
            }
            let remote = server.url + "/quiver"
            // `gc` in a tight loop, as fast as the registry lock lets it, on a thread of its own.
            let done = Locked(false)
            let home = workspace.root + "/destination"
            let collections = Task {
                try await onThreadOfItsOwn {
                    var failures: [String] = []
                    var runs = 0
                    while !done.withLock({ $0 }) {
                        do {
                            _ = try Registry(home: home).collectGarbage()
                        } catch {
                            failures.append("\(error)")
                        }
                        runs += 1
                    }
                    return (runs, failures)
                }
            }
            let results = try await withThrowingTaskGroup(of: (String, QuiverProcess.Result).self) { group in
                for index in 0..<10 {
                    group.addTask { ("pull task-\(index)", try await destination.runDetached(["pull", "task-\(index)", "--from", remote])) }
                    group.addTask {
                        let folder = Samples.folder(folders[index % folders.count])
                        return ("push local-\(index)", try await destination.runDetached(["push", "local-\(index)", folder]))
                    }
                }
                var all: [(String, QuiverProcess.Result)] = []
                for try await result in group { all.append(result) }
                return all
            }
            done.withLock { $0 = true }
            let (runs, failures) = try await collections.value
            #expect(runs > 0 && failures.isEmpty, "\(failures)")
            for (command, result) in results {
                #expect(result.status == 0, "\(command): \(result.stderr)")
            }
        }
        let registry = try Registry(home: workspace.root + "/destination")
        #expect(try registry.verify().isIntact)
        let tasks = Set(try registry.list().map(\.task))
        #expect(tasks == Set((0..<10).flatMap { ["task-\($0)", "local-\($0)"] }))
        _ = try registry.collectGarbage()
        #expect(try Snapshot(registry).temporaryFiles.isEmpty)
    }
}
