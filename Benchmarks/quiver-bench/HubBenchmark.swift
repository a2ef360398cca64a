import AsyncHTTPClient
import Foundation
import QuiverHub
import QuiverModel
import QuiverStore
import QuiverTestServers

/// `quiver-bench hub`: push and pull of a ~100 MB base model and 50 adapters over loopback, to and
/// from `quiver serve` and Debian's `docker-registry` side by side, against `curl` fetching the same
/// blobs; re-push and re-pull of unchanged content; `POST /v1/infer` and `/v1/embeddings` with 1 and 16 clients.
///
/// Options: `--adapters N` (default 50), `--rounds N` (pull/curl rounds, best kept; default 3),
/// `--small N` (small adapters pulled with `pull --all`, `HubManySmall.swift`; default 1000, 0 skips),
/// `--seconds S` (per inference measurement; default 10). `--load CLIENTS [--seconds S]` runs the
/// load test instead (`HubLoad.swift`, docs/load.md); `--inference [--baseline PATH] [--model DIR]` only the
/// serving measurements (`HubInference.swift`), beside another `quiver` binary when given, on a model folder
/// (all-MiniLM-L6-v2) instead of the synthetic base when given.
func runHubBenchmark(_ arguments: [String]) throws {
    var options = HubOptions()
    var iterator = arguments.makeIterator()
    while let argument = iterator.next() {
        switch argument {
        case "--adapters": options.adapters = Int(iterator.next() ?? "") ?? options.adapters
        case "--rounds": options.rounds = Int(iterator.next() ?? "") ?? options.rounds
        case "--seconds": options.seconds = Double(iterator.next() ?? "")
        case "--load": options.loadClients = Int(iterator.next() ?? "")
        case "--small": options.smallAdapters = Int(iterator.next() ?? "") ?? options.smallAdapters
        case "--inference": options.inferenceOnly = true
        case "--baseline": options.baseline = iterator.next()
        case "--model": options.model = iterator.next()
        default: throw QuiverError(.invalidInput, "unknown option \(argument)")
        }
    }
    let frozen = options
    try runBlocking {
        let fixture = try HubFixture(adapters: frozen.inferenceOnly ? 8 : frozen.adapters, model: frozen.inferenceOnly ? frozen.model : nil)
        defer { fixture.remove() }
        if frozen.inferenceOnly {
            try await runHubInference(fixture: fixture, seconds: frozen.seconds ?? 10, baseline: frozen.baseline)
        } else if let clients = frozen.loadClients {
            try await runHubLoad(fixture: fixture, clients: clients, seconds: frozen.seconds ?? 60)
        } else {
            try await runHubTransfers(fixture: fixture, rounds: frozen.rounds, inferenceSeconds: frozen.seconds ?? 10, smallAdapters: frozen.smallAdapters)
        }
    }
}

struct HubOptions {
    var adapters = 50
    var rounds = 3
    var seconds: Double?
    var loadClients: Int?
    var smallAdapters = 1000
    var inferenceOnly = false
    var baseline: String?
    /// With `--inference`: a model folder to serve instead of the synthetic base.
    var model: String?
}

/// The source registry of the suite: a synthetic MiniLM-like base scaled to ~100 MB (14 layers of
/// 384) and `adapters` seq_bn adapters with heads, `task-0` … `task-N`.
struct HubFixture: Sendable {
    static let syntheticShape = SampleFolders.SampleConfig(hiddenSize: 384, layerCount: 14, headCount: 12, intermediateSize: 1536, maxPositions: 512)
    let root: String
    let source: Registry
    let tasks: [String]
    let baseFolder: String
    /// The base's shape, which the adapters are made for.
    let shape: SampleFolders.SampleConfig

    /// The synthetic base, or the model folder `model` (a Hugging Face BERT folder such as all-MiniLM-L6-v2).
    init(adapters: Int, model: String? = nil) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-bench-hub-\(getpid())").path
        try? FileManager.default.removeItem(atPath: root)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        if let model {
            let config = try BertConfig.load(path: model + "/config.json")
            shape = SampleFolders.SampleConfig(
                hiddenSize: config.hiddenSize, layerCount: config.layerCount, headCount: config.headCount,
                intermediateSize: config.intermediateSize, maxPositions: config.maxPositions)
            baseFolder = model
        } else {
            shape = Self.syntheticShape
            baseFolder = root + "/folders/base"
            try SampleFolders.writeBaseModel(to: baseFolder, config: shape, seed: 1)
        }
        source = try Registry(home: root + "/source")
        _ = try source.addBase(folder: baseFolder, name: "bench-base")
        tasks = (0..<adapters).map { "task-\($0)" }
        for (index, task) in tasks.enumerated() {
            try Self.pushAdapter(task, seed: UInt64(100 + index), into: source, scratch: root + "/folders", shape: shape)
        }
    }

    /// Writes an adapter folder and pushes it into `registry` (then drops the folder).
    static func pushAdapter(
        _ task: String, seed: UInt64, into registry: Registry, scratch: String, shape: SampleFolders.SampleConfig = syntheticShape
    ) throws {
        let folder = scratch + "/" + task
        try SampleFolders.writeAdapter(to: folder, name: task, config: shape, seed: seed)
        try registry.push(Reference(parsing: task), folder: folder, baseName: "bench-base")
        try? FileManager.default.removeItem(atPath: folder)
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    /// Every blob the tasks need, by repository (the base's once), as a remote stores them.
    func blobs() throws -> (base: [(repository: String, descriptor: Descriptor)], adapters: [(repository: String, descriptor: Descriptor)]) {
        var base: [(repository: String, descriptor: Descriptor)] = []
        var adapters: [(repository: String, descriptor: Descriptor)] = []
        for task in tasks {
            let outgoing = try source.outgoing(Reference(parsing: task))
            adapters += outgoing.blobs.map { (repository: outgoing.repository, descriptor: $0) }
            if base.isEmpty, let dependency = outgoing.dependencies.first {
                base = dependency.blobs.map { (repository: dependency.repository, descriptor: $0) }
            }
        }
        return (base, adapters)
    }
}

/// One registry's transfer figures.
struct TransferFigures {
    var pushSeconds = 0.0, pushBytes = 0
    var rePushSeconds = 0.0, rePushBytes = 0
    var pullBaseSeconds = Double.infinity, pullAdaptersSeconds = Double.infinity, pullBaseBytes = 0, pullAdapterBytes = 0
    var rePullSeconds = 0.0, rePullBytes = 0
    var curlBaseSeconds = Double.infinity, curlAdaptersSeconds = Double.infinity
    var curlUploadSeconds = Double.nan
}

func runHubTransfers(fixture: HubFixture, rounds: Int, inferenceSeconds: Double, smallAdapters: Int) async throws {
    let (baseBlobs, adapterBlobs) = try fixture.blobs()
    let baseBytes = baseBlobs.reduce(0) { $0 + $1.descriptor.size }
    let adapterBytes = adapterBlobs.reduce(0) { $0 + $1.descriptor.size }
    print("hub benchmark — \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(loadAverage())")
    print("base: \(baseBlobs.count) blobs, \(baseBytes / 1_000_000) MB stored; \(fixture.tasks.count) adapters: \(adapterBlobs.count) blobs, \(adapterBytes / 1_000_000) MB")

    var servers: [BenchServer] = [try await BenchServer.quiverServe(home: fixture.root + "/serve")]
    if LocalServers.dockerRegistryBinary != nil {
        servers.append(try await BenchServer.dockerRegistry(root: fixture.root + "/docker-registry"))
    } else {
        print("docker-registry is not installed (make deps): quiver serve alone")
    }
    defer { servers.forEach { $0.stop() } }
    var figures = Array(repeating: TransferFigures(), count: servers.count)

    // MARK: Push, then push again
    for (index, server) in servers.enumerated() {
        try await withClient(server) { client in
            let push = RemotePush(registry: fixture.source, client: client)
            var bytes = 0
            let references = try fixture.tasks.map { try Reference(parsing: $0) }
            figures[index].pushSeconds = try await seconds {
                let report = try await push.push(references)
                if let failure = report.failed.first { throw BenchError("push to \(server.name) failed: \(failure.name): \(failure.error)") }
                bytes = report.bytesUploaded
            }
            figures[index].pushBytes = bytes
            figures[index].rePushSeconds = try await seconds { bytes = try await push.push(references).bytesUploaded }
            figures[index].curlUploadSeconds = curlUpload(server, baseBlobs + adapterBlobs, from: fixture.source, scratch: fixture.root + "/curl") ?? .nan
            figures[index].rePushBytes = bytes
        }
    }

    // MARK: Pull into a fresh registry, alternating with curl on the same blobs
    for round in 0..<rounds {
        for (index, server) in servers.enumerated() {
            let home = fixture.root + "/pulled-\(index)-\(round)"
            let destination = try Registry(home: home)
            try await withClient(server) { client in
                let pull = RemotePull(registry: destination, client: client)
                var firstBytes = 0
                let baseSeconds = try await seconds { firstBytes = try await pull.pull(Reference(parsing: fixture.tasks[0])).bytesDownloaded }
                var bytes = 0
                let rest = try fixture.tasks.dropFirst().map { PullRequest(try Reference(parsing: $0)) }
                let adaptersSeconds = try await seconds { bytes = try await pull.pull(rest).bytesDownloaded }
                figures[index].pullBaseSeconds = min(figures[index].pullBaseSeconds, baseSeconds)
                figures[index].pullAdaptersSeconds = min(figures[index].pullAdaptersSeconds, adaptersSeconds)
                figures[index].pullBaseBytes = firstBytes
                figures[index].pullAdapterBytes = bytes
                if round == rounds - 1 {
                    let all = try fixture.tasks.map { PullRequest(try Reference(parsing: $0)) }
                    figures[index].rePullSeconds = try await seconds { bytes = try await pull.pull(all).bytesDownloaded }
                    figures[index].rePullBytes = bytes
                }
            }
            try? FileManager.default.removeItem(atPath: home)
            // curl: the base's blobs + task-0's, then the other adapters' blobs, 4 at once like the client.
            let firstAdapter = adapterBlobs.filter { $0.repository == fixture.tasks[0] }
            if let time = curl(server, baseBlobs + firstAdapter, scratch: fixture.root + "/curl") {
                figures[index].curlBaseSeconds = min(figures[index].curlBaseSeconds, time)
            }
            if let time = curl(server, adapterBlobs.filter { $0.repository != fixture.tasks[0] }, scratch: fixture.root + "/curl") {
                figures[index].curlAdaptersSeconds = min(figures[index].curlAdaptersSeconds, time)
            }
        }
    }

    // MARK: Report
    func mbps(_ bytes: Int, _ seconds: Double) -> String { Measure.format(Double(bytes) / seconds / 1e6, 0) }
    print("\nMB/s of blob bytes over loopback (pull and curl: best of \(rounds) rounds; pull = download, verify, import):")
    print("| registry | push base + \(fixture.tasks.count) | pull base + task-0 | curl same | pull/curl | pull \(fixture.tasks.count - 1) adapters | curl same | pull/curl |")
    print("|---|---|---|---|---|---|---|---|")
    for (index, server) in servers.enumerated() {
        let f = figures[index]
        let firstBytes = f.pullBaseBytes
        let restBytes = f.pullAdapterBytes
        print("| \(server.name) | \(mbps(f.pushBytes, f.pushSeconds)) (\(Measure.format(f.pushSeconds, 2)) s) "
            + "| \(mbps(firstBytes, f.pullBaseSeconds)) (\(Measure.format(f.pullBaseSeconds, 2)) s) | \(mbps(firstBytes, f.curlBaseSeconds)) "
            + "| **\(Measure.format(f.curlBaseSeconds / f.pullBaseSeconds))** "
            + "| \(mbps(restBytes, f.pullAdaptersSeconds)) (\(Measure.format(f.pullAdaptersSeconds, 2)) s) | \(mbps(restBytes, f.curlAdaptersSeconds)) "
            + "| **\(Measure.format(f.curlAdaptersSeconds / f.pullAdaptersSeconds))** |")
    }
    print("\npush of the base + \(fixture.tasks.count) adapters against curl uploading the same blobs (4 at once, monolithic POSTs):")
    for (index, server) in servers.enumerated() {
        let f = figures[index]
        print("  \(server.name): push \(Measure.format(f.pushSeconds, 2)) s, curl \(Measure.format(f.curlUploadSeconds, 2)) s: **\(Measure.format(f.curlUploadSeconds / f.pushSeconds))**")
    }
    print("\nunchanged content sent again (target: 0 blob bytes):")
    for (index, server) in servers.enumerated() {
        let f = figures[index]
        print("  \(server.name): re-push of \(fixture.tasks.count): \(f.rePushBytes) blob bytes in \(Measure.format(f.rePushSeconds * 1000, 0)) ms; "
            + "re-pull: \(f.rePullBytes) blob bytes in \(Measure.format(f.rePullSeconds * 1000, 0)) ms")
    }

    if smallAdapters > 0 { try await runHubManySmall(count: smallAdapters, root: fixture.root, dockerRegistry: servers.count > 1) }

    try await measureServing(servers[0], tasks: Array(fixture.tasks.prefix(8)), seconds: inferenceSeconds, clients: [1, 16])
    print("load average at the end: \(loadAverage())")
}

// MARK: - Helpers

func withClient<T: Sendable>(_ server: BenchServer, _ body: (DistributionClient) async throws -> T) async throws -> T {
    try await DistributionClient.with(location: try RemoteLocation(parsing: server.url + "/quiver"), credentials: RemoteCredentials(), body)
}

func seconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = ContinuousClock.now
    try await body()
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// `curl` fetching `blobs` from `server`, 4 at once, each to a file; nil when curl fails.
func curl(_ server: BenchServer, _ blobs: [(repository: String, descriptor: Descriptor)], scratch: String) -> Double? {
    try? FileManager.default.removeItem(atPath: scratch)
    try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let config = blobs.enumerated().map { index, blob in
        "url = \"\(server.url)/v2/quiver/\(blob.repository)/blobs/\(blob.descriptor.digest)\"\noutput = \"\(scratch)/\(index)\"\n"
    }.joined()
    try? config.write(toFile: scratch + ".curlrc", atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: scratch + ".curlrc") }
    return Measure.shell("curl -sfL --parallel --parallel-max 4 -K '\(scratch).curlrc'")
}

/// `curl` uploading `blobs` (stored in `registry`) to `server`, 4 at once, each a monolithic
/// `POST …/blobs/uploads/?digest=` with the bytes: the raw cost of moving them; nil when curl fails.
func curlUpload(_ server: BenchServer, _ blobs: [(repository: String, descriptor: Descriptor)], from registry: Registry, scratch: String) -> Double? {
    let config = blobs.map { blob in
        """
        url = "\(server.url)/v2/quiver/\(blob.repository)/blobs/uploads/?digest=\(blob.descriptor.digest)"
        request = "POST"
        header = "Content-Type: application/octet-stream"
        data-binary = "@\(registry.blobs.path(of: blob.descriptor.digest))"
        output = "/dev/null"

        """
    }.joined(separator: "next\n")
    try? config.write(toFile: scratch + ".upload.curlrc", atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: scratch + ".upload.curlrc") }
    return Measure.shell("curl -sf --parallel --parallel-max 4 -K '\(scratch).upload.curlrc'")
}

/// Requests answered and refused by `/v1/infer` during one run.
struct InferenceRun: Sendable {
    var ok = 0
    var errors: [String: Int] = [:]
    var latencies: [Double] = []
    var seconds = 0.0

    func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return .nan }
        let sorted = latencies.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    mutating func merge(_ other: InferenceRun) {
        ok += other.ok
        latencies += other.latencies
        for (key, count) in other.errors { errors[key, default: 0] += count }
    }
}

/// One `POST` of a JSON body; returns nil when answered 200, else the kind of failure.
func postOnce(_ http: HTTPClient, endpoint: String, body: Data) async -> String? {
    var request = HTTPClientRequest(url: endpoint)
    request.method = .POST
    request.headers.add(name: "Content-Type", value: "application/json")
    request.body = .bytes(body)
    do {
        let response = try await http.execute(request, timeout: .seconds(120))
        let body = try await response.body.collect(upTo: 1 << 24)
        if response.status.code == 200 { return nil }
        let code = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])
            .flatMap { ($0["error"] as? [String: Any])?["code"] as? String } ?? "?"
        return "\(response.status.code) \(code)"
    } catch {
        return "transport: \(String(describing: error).prefix(60))"
    }
}

func inferenceRun(endpoint: String, bodies: [Data], clients: Int, seconds: Double, requests: Int? = nil) async throws -> InferenceRun {
    var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(10), read: .seconds(120)))
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, clients)
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    let start = ContinuousClock.now
    let deadline = start + .milliseconds(Int(seconds * 1000))
    var total = InferenceRun()
    await withTaskGroup(of: InferenceRun.self) { group in
        for client in 0..<clients {
            group.addTask {
                var run = InferenceRun()
                var index = client
                while requests.map({ index < $0 }) ?? (ContinuousClock.now < deadline) {
                    let sent = ContinuousClock.now
                    let failure = await postOnce(http, endpoint: endpoint, body: bodies[index % bodies.count])
                    let elapsed = ContinuousClock.now - sent
                    if let failure { run.errors[failure, default: 0] += 1 } else {
                        run.ok += 1
                        run.latencies.append(Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds))
                    }
                    index += clients
                }
                return run
            }
        }
        for await run in group { total.merge(run) }
    }
    try? await http.shutdown()
    let elapsed = ContinuousClock.now - start
    total.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    return total
}
