import AsyncHTTPClient
import Foundation
import QuiverModel

/// `quiver-bench hub --inference [--seconds S] [--baseline PATH]`: `quiver serve` answering `POST /v1/infer` (one
/// short text per request, 8 adapters in rotation) and `POST /v1/embeddings` (one text, the base alone) with 1 and
/// 16 concurrent clients: requests/s, the ratio of 16 clients to one, p50 and p99 latency, errors, and the server's
/// peak memory. With `--baseline PATH`, the same requests to another `quiver` binary (an earlier build) serving the
/// same registry, measured in the same run, one server at a time.
func runHubInference(fixture: HubFixture, seconds: Double, baseline: String?) async throws {
    print("hub inference — \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(loadAverage())")
    let shape = fixture.shape
    print("base: \(fixture.baseFolder.hasPrefix(fixture.root) ? "synthetic" : fixture.baseFolder), \(shape.layerCount) layers of \(shape.hiddenSize); adapters: \(fixture.tasks.count) seq_bn + head")
    var binaries = [BenchServer.quiverBinary]
    if let baseline { binaries.append(baseline) }
    for binary in binaries {
        let server = try await BenchServer.quiverServe(home: fixture.root + "/source", binary: binary)
        defer { server.stop() }
        try await measureServing(server, tasks: fixture.tasks, seconds: seconds, clients: [1, 16])
    }
    print("load average at the end: \(loadAverage())")
}

/// The JSON body of one `/v1/infer` request for `task`.
func inferBody(task: String) -> Data {
    Data(#"{"task": "\#(task)", "texts": ["a quietly moving film about two brothers"]}"#.utf8)
}

/// `/v1/infer` and `/v1/embeddings` on `server` with each count of `clients`, printed as a table.
func measureServing(_ server: BenchServer, tasks: [String], seconds: Double, clients: [Int]) async throws {
    let endpoints: [(name: String, url: String, bodies: [Data])] = [
        ("/v1/infer", server.url + "/v1/infer", tasks.map(inferBody(task:))),
        ("/v1/embeddings", server.url + "/v1/embeddings",
         [Data(#"{"model": "bench-base", "input": "a quietly moving film about two brothers"}"#.utf8)]),
    ]
    print("\n\(server.name): one text per request, \(tasks.count) adapters in rotation (all loaded), \(Measure.format(seconds, 0)) s per row")
    print("| endpoint | clients | req/s | × one client | p50 ms | p99 ms | p99 / p50 | errors |")
    print("|---|---|---|---|---|---|---|---|")
    for endpoint in endpoints {
        let warm = try await inferenceRun(endpoint: endpoint.url, bodies: endpoint.bodies, clients: 1, seconds: 0, requests: endpoint.bodies.count)
        guard warm.errors.isEmpty else {
            print("| \(endpoint.name) | — | not served: \(warm.errors.keys.sorted().joined(separator: ", ")) | | | | | |")
            continue
        }
        var single: Double?
        for count in clients {
            let run = try await inferenceRun(endpoint: endpoint.url, bodies: endpoint.bodies, clients: count, seconds: seconds)
            let rate = Double(run.ok) / run.seconds
            if single == nil { single = rate }
            let errors = run.errors.isEmpty ? "0" : run.errors.map { "\($0.key): \($0.value)" }.sorted().joined(separator: ", ")
            let (p50, p99) = (run.percentile(0.5) * 1000, run.percentile(0.99) * 1000)
            print("| \(endpoint.name) | \(count) | \(Measure.format(rate, 1)) | \(Measure.format(rate / single!, 2)) "
                + "| \(Measure.format(p50, 2)) | \(Measure.format(p99, 2)) | \(Measure.format(p99 / p50, 2)) | \(errors) |")
        }
    }
    if let memory = server.memory() {
        print("\(server.name) memory: VmRSS \(memory.rss >> 20) MiB, VmHWM \(memory.peak >> 20) MiB")
    }
}
