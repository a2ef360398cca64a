import Foundation
import QuiverHub
import QuiverModel
import QuiverStore

/// The hub suite's "many small adapters" part: `count` seq_bn adapters with heads (~90 KB stored
/// each) on a tiny BERT, published with one `push` of them all, then `quiver pull --all` as a whole
/// process into a fresh registry — wall time and peak RSS — against `curl` fetching the same blobs
/// (4 at once, each to a file); then the same pull again (0 blob bytes).
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
    for task in tasks {
        let outgoing = try source.outgoing(Reference(parsing: task))
        blobs += outgoing.blobs.map { (outgoing.repository, $0) }
        if task == tasks[0], let base = outgoing.dependencies.first { blobs += base.blobs.map { (base.repository, $0) } }
    }
    let bytes = blobs.reduce(0) { $0 + $1.descriptor.size }
    print("\n\(count) small adapters (made and stored in \(Measure.format(made, 1)) s): \(blobs.count) blobs with the base's, \(bytes / 1_000_000) MB")
    // Registries of their own, so that `pull --all` finds these tasks alone.
    var servers = [try await BenchServer.quiverServe(home: root + "/small-serve")]
    if dockerRegistry { servers.append(try await BenchServer.dockerRegistry(root: root + "/small-docker-registry")) }
    defer { servers.forEach { $0.stop() } }
    print("| registry | push all | curl upload | push/curl | pull --all (process) | per adapter | peak RSS | curl same blobs | pull/curl | re-pull |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (index, server) in servers.enumerated() {
        let references = try tasks.map { try Reference(parsing: $0) }
        let start = ContinuousClock.now
        let pushed = try await withClient(server) { client in try await RemotePush(registry: source, client: client).push(references) }
        let pushSeconds = seconds(ContinuousClock.now - start)
        guard pushed.failed.isEmpty else { throw BenchError("push of \(count) small adapters failed: \(pushed.failed[0].error)") }
        let uploadSeconds = curlUpload(server, blobs, from: source, scratch: root + "/small-curl")
        let home = root + "/small-pulled-\(index)"
        let pull = "QUIVER_HOME='\(home)' '\(BenchServer.quiverBinary)' pull --all --from \(server.url)/quiver"
        let (pullSeconds, peak) = try timedProcess(pull)
        let curlSeconds = curl(server, blobs, scratch: root + "/small-curl")
        let (rePullSeconds, _) = try timedProcess(pull)
        let pulled = try Registry(home: home)
        guard try pulled.list().count == count else { throw BenchError("pull --all brought \(try pulled.list().count) of \(count)") }
        try? FileManager.default.removeItem(atPath: home)
        print("| \(server.name) | \(Measure.format(pushSeconds, 2)) s | \(uploadSeconds.map { Measure.format($0, 2) + " s" } ?? "failed") "
            + "| **\(uploadSeconds.map { Measure.format($0 / pushSeconds) } ?? "-")** | \(Measure.format(pullSeconds, 2)) s "
            + "| \(Measure.format(pullSeconds / Double(count) * 1000, 2)) ms | \(peak >> 20) MiB "
            + "| \(curlSeconds.map { Measure.format($0, 2) + " s" } ?? "failed") | **\(curlSeconds.map { Measure.format($0 / pullSeconds) } ?? "-")** "
            + "| \(Measure.format(rePullSeconds, 2)) s |")
    }
}

/// Runs a shell command under `/usr/bin/time`; its wall seconds and peak RSS in bytes.
func timedProcess(_ command: String) throws -> (seconds: Double, peak: Int) {
    let report = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-bench-time-\(getpid())").path
    defer { try? FileManager.default.removeItem(atPath: report) }
    guard let seconds = Measure.shell("/usr/bin/time -f '%M' -o '\(report)' sh -c \"\(command)\" >/dev/null 2>&1") else {
        throw BenchError("failed: \(command)")
    }
    let kilobytes = Int((try String(contentsOfFile: report, encoding: .utf8)).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    return (seconds, kilobytes << 10)
}
