import Foundation
import Hummingbird
import HummingbirdTesting
import QuiverStore
import QuiverModel
import Testing

@testable import QuiverHub

/// Work that blocks (the registry lock, SQLite, fsync, blob reads) runs on the server's own thread
/// pools: requests stuck behind the lock of another process hold none of the cooperative threads.
@Suite struct ServerBlockingTests {
    @Test func theServerAnswersWhileAnotherProcessHoldsTheRegistryLock() async throws {
        let workspace = try ServerWorkspace.filled()
        let layer = try workspace.registry.outgoing(Reference(parsing: "sentiment")).blobs[1].digest
        // What `quiver gc` holds for as long as it runs: the registry lock, exclusively.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", "exec 9>>\"$0\" && flock --exclusive 9 && exec sleep 60", workspace.registry.home + "/lock"]
        try holder.run()
        defer { if holder.isRunning { holder.terminate() } }
        try await Task.sleep(for: .milliseconds(300))

        try await workspace.app().test(.live) { client in
            let port = try #require(client.port)
            let clock = ContinuousClock()
            let threadsBefore = try Self.threadCount()
            var baseline = Duration.zero
            for _ in 0..<3 { baseline += try await clock.measure { _ = try await client.execute(uri: "/v2/", method: .get) } }
            // A hundred deletes wait for the lock, each on its own connection (opened from one thread).
            let connections = try await RawHTTPConnection.onThread {
                try (0..<100).map { index in
                    let connection = try RawHTTPConnection(port: port, timeout: 120)
                    try connection.sendHead("DELETE", "/v2/quiver/\(index % 2 == 0 ? "entailment/manifests/1" : "topic/manifests/v2")")
                    return connection
                }
            }
            try await Task.sleep(for: .milliseconds(500))
            for (path, bound) in [("/v2/", Duration.milliseconds(100)), ("/v2/_catalog", .seconds(1)), ("/v2/quiver/sentiment/manifests/1", .seconds(1)),
                                  ("/v2/quiver/sentiment/blobs/\(layer)", .seconds(1)), ("/api/adapters", .seconds(1))] {
                var status = HTTPResponse.Status.internalServerError
                let elapsed = try await clock.measure { status = try await client.execute(uri: path, method: .get).status }
                #expect(status == .ok, "\(path)")
                // On a machine busy with other tests (or under a sanitizer), allow for how slowly it answered before:
                // a server waiting for the lock would not answer before the holder's 60 s are up.
                #expect(elapsed < max(bound, baseline * 4), "GET \(path) took \(elapsed) while the lock was held (\(baseline / 3) before)")
            }
            // The waits hold threads of a bounded pool, not one thread each.
            let threadsDuring = try Self.threadCount()
            #expect(threadsDuring - threadsBefore < 40, "\(threadsBefore) threads before, \(threadsDuring) with 100 requests waiting")
            holder.terminate()
            let statuses = try await RawHTTPConnection.onThread { try connections.map { try $0.response().status } }
            #expect(statuses.contains(202), "\(statuses)")
            #expect(statuses.allSatisfy { [202, 404, 409].contains($0) }, "\(statuses)")
        }
        #expect(try workspace.registry.verify().isIntact)
    }

    /// The threads of this process.
    static func threadCount() throws -> Int {
        let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Threads:") })
        return try #require(Int(line.dropFirst("Threads:".count).trimmingCharacters(in: .whitespaces)))
    }
}
