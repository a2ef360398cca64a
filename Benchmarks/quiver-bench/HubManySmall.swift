import Foundation
import QuiverHub
import QuiverModel
import QuiverStore

/// The hub suite's "many small adapters" part: `count` seq_bn adapters with heads (~90 KB stored
/// each) on a tiny BERT, published with one `push` of them all, then `quiver pull --all` as a whole
/// process into a fresh registry — wall time and peak RSS — against `curl` fetching the same blobs
/// (4 at once, each to a file) and `scripts/bench/fetch_peer.py` fetching the same manifests and
/// blobs (4 threads); then the same pull again (0 blob bytes). What bounds the pull and the push:
/// the CPU time of the client and of the server process against the two cores' time.
func runHubManySmall(count: Int, root: String, dockerRegistry: Bool) async throws {
    let shape = SampleFolders.SampleConfig(hiddenSize: 128, layerCount: 4, headCount: 4, intermediateSize: 512, maxPositions: 128)
    let source = try Registry(home: root + "/small-source")
    try SampleFolders.writeBaseModel(to: root + "/small-folders/base", config: shape, seed: 3)
    _ = try source.addBase(folder: root + "/small-folders/base", name: "small-base")
    let tasks = (0..<count).map { "small-\($0)" }
    let made = try await seconds {
        for (index, task) in tasks.enumerated() {
            let folder = root + "/small-folders/" + task
            try SampleFolders.writeAdapter(to: folder, name: task, config: shape, seed: UInt64(5000 + index))
            try source.push(Reference(parsing: task), folder: folder, baseName: "small-base")
            try? FileManager.default.removeItem(atPath: folder)
        }
    }
    var blobs: [(repository: String, descriptor: Descriptor)] = []
    var manifests: [String] = []  // what a pull fetches besides the blobs: `REPOSITORY/manifests/DIGEST`
    for task in tasks {
        let outgoing = try source.outgoing(Reference(parsing: task))
        blobs += outgoing.blobs.map { (outgoing.repository, $0) }
        manifests.append("\(outgoing.repository)/manifests/\(outgoing.manifestDigest)")
        if task == tasks[0], let base = outgoing.dependencies.first {
            blobs += base.blobs.map { (base.repository, $0) }
            manifests.append("\(base.repository)/manifests/\(base.manifestDigest)")
        }
    }
    let bytes = blobs.reduce(0) { $0 + $1.descriptor.size }
    print("\n\(count) small adapters (made and stored in \(Measure.format(made, 1)) s): \(blobs.count) blobs with the base's, \(bytes / 1_000_000) MB")
    // Registries of their own, so that `pull --all` finds these tasks alone.
    var servers = [try await BenchServer.quiverServe(home: root + "/small-serve")]
    if dockerRegistry { servers.append(try await BenchServer.dockerRegistry(root: root + "/small-docker-registry")) }
    defer { servers.forEach { $0.stop() } }
    print("| registry | push all | curl upload | push/curl | pull --all (process) | per adapter | peak RSS | curl same blobs | pull/curl | re-pull |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    var bounds: [String] = []
    for (index, server) in servers.enumerated() {
        let references = try tasks.map { try Reference(parsing: $0) }
        let start = ContinuousClock.now
        let (ownCPUBefore, serverCPUBefore) = (processCPUSeconds(getpid()), processCPUSeconds(server.pid))
        let pushed = try await withClient(server) { client in try await RemotePush(registry: source, client: client).push(references) }
        let pushSeconds = seconds(ContinuousClock.now - start)
        bounds.append(cpuBound(
            "push to \(server.name)", wall: pushSeconds, client: processCPUSeconds(getpid()) - ownCPUBefore,
            server: processCPUSeconds(server.pid) - serverCPUBefore))
        guard pushed.failed.isEmpty else { throw BenchError("push of \(count) small adapters failed: \(pushed.failed[0].error)") }
        let uploadSeconds = curlUpload(server, blobs, from: source, scratch: root + "/small-curl")
        let home = root + "/small-pulled-\(index)"
        // QUIVER_BENCH_PERF=DIR: the pull under `perf record` (DIR/pull-N.data; its figures then include perf's cost).
        let profiler = ProcessInfo.processInfo.environment["QUIVER_BENCH_PERF"].map { "perf record -q -F 999 -g -o '\($0)/pull-\(index).data' -- " } ?? ""
        let command = "'\(BenchServer.quiverBinary)' pull --all --from \(server.url)/quiver"
        let (pull, rePull) = ("QUIVER_HOME='\(home)' \(profiler)\(command)", "QUIVER_HOME='\(home)' \(command)")
        let serverCPU = processCPUSeconds(server.pid)
        let (pullSeconds, peak, pullCPU) = try timedProcess(pull)
        let pullServerCPU = processCPUSeconds(server.pid) - serverCPU
        bounds.append(cpuBound("pull --all from \(server.name)", wall: pullSeconds, client: pullCPU, server: pullServerCPU))
        let fetchServerCPU = processCPUSeconds(server.pid)
        let paths = manifests.map { "/v2/quiver/" + $0 } + blobs.map { "/v2/quiver/\($0.repository)/blobs/\($0.descriptor.digest)" }
        if let fetch = fetchPeer(server, paths: paths, scratch: root + "/small-fetch") {
            bounds.append(cpuBound("4-thread fetch of the same manifests and blobs from \(server.name)", wall: fetch.seconds, client: fetch.cpu,
                                   server: processCPUSeconds(server.pid) - fetchServerCPU) + "; pull/fetch **\(Measure.format(fetch.seconds / pullSeconds))**")
        } else {
            bounds.append("4-thread fetch from \(server.name): failed")
        }
        let curlSeconds = curl(server, blobs, scratch: root + "/small-curl")
        let (rePullSeconds, _, _) = try timedProcess(rePull)
        let pulled = try Registry(home: home)
        guard try pulled.list().count == count else { throw BenchError("pull --all brought \(try pulled.list().count) of \(count)") }
        try? FileManager.default.removeItem(atPath: home)
        print("| \(server.name) | \(Measure.format(pushSeconds, 2)) s | \(uploadSeconds.map { Measure.format($0, 2) + " s" } ?? "failed") "
            + "| **\(uploadSeconds.map { Measure.format($0 / pushSeconds) } ?? "-")** | \(Measure.format(pullSeconds, 2)) s "
            + "| \(Measure.format(pullSeconds / Double(count) * 1000, 2)) ms | \(peak >> 20) MiB "
            + "| \(curlSeconds.map { Measure.format($0, 2) + " s" } ?? "failed") | **\(curlSeconds.map { Measure.format($0 / pullSeconds) } ?? "-")** "
            + "| \(Measure.format(rePullSeconds, 2)) s |")
    }
    print("\nwhat bounds them (CPU seconds of the client and of the server process, against the 2 cores' wall time):")
    for line in bounds { print("  " + line) }
}

/// `NAME: client C s + server S s of CPU = N % of the cores' time over W s`.
private func cpuBound(_ name: String, wall: Double, client: Double, server: Double) -> String {
    let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
    return "\(name): client \(Measure.format(client, 2)) s + server \(Measure.format(server, 2)) s of CPU = "
        + "\(Measure.format((client + server) / (cores * wall) * 100, 0)) % of \(Int(cores)) cores over \(Measure.format(wall, 2)) s"
}

/// User and system CPU seconds a process has used so far (`/proc/PID/stat`); 0 when unreadable.
func processCPUSeconds(_ pid: Int32) -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let afterName = stat.range(of: ") ", options: .backwards)
    else { return 0 }
    // Fields after the name: state is field 3, utime 14 and stime 15 (clock ticks).
    let fields = stat[afterName.upperBound...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// `scripts/bench/fetch_peer.py`: 4 threads fetching `paths` from `server` over keep-alive connections, each
/// answer to a file; the whole process's seconds (Python's start-up included) and CPU seconds, nil when it fails.
func fetchPeer(_ server: BenchServer, paths: [String], scratch: String) -> (seconds: Double, cpu: Double)? {
    guard let script = benchScriptPath("scripts/bench/fetch_peer.py") else { return nil }
    try? FileManager.default.removeItem(atPath: scratch)
    defer { try? FileManager.default.removeItem(atPath: scratch); try? FileManager.default.removeItem(atPath: scratch + ".list") }
    guard (try? ([server.url] + paths).joined(separator: "\n").write(toFile: scratch + ".list", atomically: true, encoding: .utf8)) != nil else { return nil }
    guard let run = try? timedProcess("python3 '\(script)' --list '\(scratch).list' --out '\(scratch)'") else { return nil }
    return (run.seconds, run.cpu)
}

/// Runs a shell command under `/usr/bin/time`; its wall seconds, peak RSS in bytes and CPU seconds (user + system).
func timedProcess(_ command: String) throws -> (seconds: Double, peak: Int, cpu: Double) {
    let report = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-bench-time-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: report) }
    guard let seconds = Measure.shell("/usr/bin/time -f '%M %U %S' -o '\(report)' sh -c \"\(command)\" >/dev/null 2>&1") else {
        throw BenchError("failed: \(command)")
    }
    let fields = (try String(contentsOfFile: report, encoding: .utf8)).split(whereSeparator: \.isWhitespace)
    let kilobytes = fields.first.flatMap { Int($0) } ?? 0
    let cpu = fields.dropFirst().compactMap { Double($0) }.reduce(0, +)
    return (seconds, kilobytes << 10, cpu)
}
