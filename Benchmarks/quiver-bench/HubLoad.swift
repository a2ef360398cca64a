import AsyncHTTPClient
import Foundation
import QuiverHub
import QuiverModel
import QuiverStore

/// `quiver-bench hub --load CLIENTS --seconds S` (docs/load.md): `quiver serve` under a bounded
/// loopback load. A third of the clients pull adapters (each into its own registry holding the base,
/// removing and collecting the adapter afterwards so the next pull transfers it again), a third push
/// new adapters (re-pushing once the prepared ones are all sent), a third send `/v1/infer`. Every
/// request must be answered or refused cleanly (429/503); afterwards every pushed version must be on
/// the server with its digest, pull back intact, and the server's registry must pass `quiver verify`.
/// The server's VmRSS is sampled every 100 ms.
func runHubLoad(fixture: HubFixture, clients: Int, seconds: Double) async throws {
    let prepared = max(clients * 2, 32)
    print("hub load — \(clients) clients for \(Measure.format(seconds, 0)) s, \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(loadAverage())")
    for index in 0..<prepared {
        try HubFixture.pushAdapter("load-\(index)", seed: UInt64(10_000 + index), into: fixture.source, scratch: fixture.root + "/folders")
    }
    // Each puller's registry holds the base: blobs hard-linked from one template, catalog copied.
    let template = fixture.root + "/pull-template"
    _ = try Registry(home: template).addBase(folder: fixture.baseFolder, name: "bench-base")
    let pullerCount = (clients + 2) / 3
    let pullers = try (0..<pullerCount).map { index -> Registry in
        let home = fixture.root + "/puller-\(index)"
        guard Measure.shell("mkdir -p '\(home)' && cp -al '\(template)/blobs' '\(home)/blobs' && cp '\(template)'/catalog.sqlite* '\(home)/'") != nil else {
            throw BenchError("cannot copy the template registry to \(home)")
        }
        return try Registry(home: home)
    }

    let server = try await BenchServer.quiverServe(home: fixture.root + "/load-serve")
    defer { server.stop() }
    try await withClient(server) { client in
        let push = RemotePush(registry: fixture.source, client: client)
        for task in fixture.tasks { _ = try await push.push(Reference(parsing: task)) }
    }
    print("server seeded with the base and \(fixture.tasks.count) adapters; \(prepared) new adapters ready to push; load average \(loadAverage())")

    let nextPush = Locked(0)
    let sampling = Locked((running: true, peakRSS: 0, samples: 0))
    let sampler = Task {
        while sampling.withLock({ $0.running }) {
            if let memory = server.memory() { sampling.withLock { $0.peakRSS = max($0.peakRSS, memory.rss); $0.samples += 1 } }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
    var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10), read: .seconds(120)))
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = clients
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    let started = ContinuousClock.now
    var stats = LoadStats()
    try await withThrowingTaskGroup(of: LoadStats.self) { group in
        for index in 0..<clients {
            group.addTask {
                var stats = LoadStats()
                var random = SystemRandomNumberGenerator()
                switch index % 3 {
                case 0:
                    let registry = pullers[index / 3]
                    try await withClient(server) { client in
                        let pull = RemotePull(registry: registry, client: client)
                        while ContinuousClock.now < deadline {
                            let task = fixture.tasks.randomElement(using: &random)!
                            await stats.record("pull") { stats in
                                let report = try await pull.pull(Reference(parsing: task))
                                stats.bytes["pull", default: 0] += report.bytesDownloaded
                            }
                            _ = try? registry.remove(Reference(parsing: task))
                            _ = try? registry.collectGarbage()
                        }
                    }
                case 1:
                    try await withClient(server) { client in
                        let push = RemotePush(registry: fixture.source, client: client)
                        while ContinuousClock.now < deadline {
                            let next = nextPush.withLock { value in defer { value += 1 }; return value }
                            let task = next < prepared ? "load-\(next)" : fixture.tasks.randomElement(using: &random)!
                            let kind = next < prepared ? "push" : "re-push"
                            await stats.record(kind) { stats in
                                let report = try await push.push(Reference(parsing: task))
                                stats.bytes[kind, default: 0] += report.bytesUploaded
                                if next < prepared { stats.pushed += report.published.filter { $0.repository.hasPrefix("load-") } }
                            }
                        }
                    }
                default:
                    while ContinuousClock.now < deadline {
                        let task = fixture.tasks.randomElement(using: &random)!
                        let sent = ContinuousClock.now
                        if let failure = await postOnce(http, endpoint: server.url + "/v1/infer", body: inferBody(task: task)) {
                            stats.count(kind: "infer", failure: failure.hasPrefix("503") || failure.hasPrefix("429") ? "refused \(failure)" : failure)
                        } else {
                            stats.count(kind: "infer", failure: nil)
                        }
                        stats.slowest = max(stats.slowest, (ContinuousClock.now - sent) / .milliseconds(1))
                    }
                }
                return stats
            }
        }
        for try await result in group { stats.merge(result) }
    }
    let elapsed = (ContinuousClock.now - started) / .seconds(1)
    try? await http.shutdown()
    sampling.withLock { $0.running = false }
    await sampler.value
    let (peakRSS, samples) = sampling.withLock { ($0.peakRSS, $0.samples) }
    let memory = server.memory()
    let endLoad = loadAverage()

    print("\n\(stats.total) requests in \(Measure.format(elapsed, 1)) s (clients stop at the deadline after their current one):")
    print("| operation | done | refused (429/503) | errors | MB moved |")
    print("|---|---|---|---|---|")
    for kind in ["pull", "push", "re-push", "infer"] {
        let refused = stats.failures.filter { $0.key.kind == kind && $0.key.failure.hasPrefix("refused") }.values.reduce(0, +)
        let errors = stats.failures.filter { $0.key.kind == kind && !$0.key.failure.hasPrefix("refused") }.values.reduce(0, +)
        print("| \(kind) | \(stats.done[kind] ?? 0) | \(refused) | \(errors) | \(Measure.format(Double(stats.bytes[kind] ?? 0) / 1e6, 1)) |")
    }
    for (key, count) in stats.failures.sorted(by: { $0.value > $1.value }) {
        print("  \(key.kind): \(count) × \(key.failure)")
    }
    print("slowest inference answer: \(Measure.format(stats.slowest, 0)) ms")
    print("server memory: peak VmRSS sampled \(peakRSS >> 20) MiB (\(samples) samples), VmHWM \((memory?.peak ?? 0) >> 20) MiB, VmRSS at the end \((memory?.rss ?? 0) >> 20) MiB")
    print("load average at the end: \(endLoad)")

    // MARK: Nothing lost
    let check = try Registry(home: fixture.root + "/check")
    _ = try check.addBase(folder: fixture.baseFolder, name: "bench-base")
    var missing: [String] = []
    try await withClient(server) { client in
        let pull = RemotePull(registry: check, client: client)
        for published in stats.pushed {
            do {
                let report = try await pull.pull(Reference(task: published.repository, version: published.tags[0]))
                if report.imported.last?.digest != published.digest { missing.append("\(published.repository): other digest") }
            } catch {
                missing.append("\(published.repository): \(error)")
            }
        }
    }
    server.stop()
    let served = try Registry(home: server.root)
    for published in stats.pushed {
        let row = try? served.resolve(Reference(task: published.repository, version: published.tags[0]))
        if row?.manifestDigest != published.digest.description { missing.append("\(published.repository) in the server's catalog") }
    }
    let verification = try served.verify()
    let cli = Measure.shell("QUIVER_HOME='\(server.root)' '\(BenchServer.quiverBinary)' verify")
    print("\n\(stats.pushed.count) versions pushed under load: \(missing.isEmpty ? "all on the server with their digests and pulled back intact" : "\(missing.count) missing: \(missing.prefix(5))")")
    print("server registry: \(verification.blobsChecked) blobs, \(verification.bytesChecked / 1_000_000) MB verified, \(verification.damaged.count) damaged; `quiver verify` \(cli == nil ? "FAILED" : "passed")")
}

/// What the clients of one load run did.
struct LoadStats: Sendable {
    struct Failure: Hashable, Sendable {
        var kind: String
        var failure: String
    }

    var done: [String: Int] = [:]
    var failures: [Failure: Int] = [:]
    var bytes: [String: Int] = [:]
    var pushed: [PushReport.Published] = []
    var slowest = 0.0

    var total: Int { done.values.reduce(0, +) + failures.values.reduce(0, +) }

    mutating func count(kind: String, failure: String?) {
        if let failure { failures[Failure(kind: kind, failure: failure), default: 0] += 1 } else { done[kind, default: 0] += 1 }
    }

    /// Runs one push or pull and counts it; a 429/503 answer is a clean refusal, anything else an error.
    mutating func record(_ kind: String, _ body: (inout LoadStats) async throws -> Void) async {
        do {
            try await body(&self)
            count(kind: kind, failure: nil)
        } catch {
            // Refusals are counted by status (their messages name the repository); errors by message.
            let text = String(describing: error)
            let refusal = ["429 TOOMANYREQUESTS", "503 overloaded"].first { text.contains($0) }
            count(kind: kind, failure: refusal.map { "refused \($0)" } ?? String(text.prefix(100)))
        }
    }

    mutating func merge(_ other: LoadStats) {
        for (key, value) in other.done { done[key, default: 0] += value }
        for (key, value) in other.failures { failures[key, default: 0] += value }
        for (key, value) in other.bytes { bytes[key, default: 0] += value }
        pushed += other.pushed
        slowest = max(slowest, other.slowest)
    }
}
