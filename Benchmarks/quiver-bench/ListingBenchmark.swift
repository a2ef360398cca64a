import AsyncHTTPClient
import Foundation

/// `quiver list`, `list --json` and `show` as whole processes, and the first page of `quiver serve`'s web page and the
/// whole of `GET /api/adapters` over loopback, on the registry in `home` (issue 15: 10,000 versions at wire speed).
/// The release `quiver` beside `quiver-bench` runs them; `empty` is an empty registry, for the cost of a bare process.
func runListingBenchmark(home: String, empty: String, showing reference: String) throws {
    let quiver = BenchServer.quiverBinary
    guard FileManager.default.isExecutableFile(atPath: quiver) else {
        throw BenchError("\(quiver) is missing: swift build -c release --product quiver")
    }
    print("\nlisting (whole processes, best of 7; load average \(loadAverage())):")
    let runs = [("list", empty), ("list", home), ("list --json", home), ("show \(reference)", home), ("show \(reference) --json", home)]
    for (arguments, registry) in runs {
        let seconds = Measure.bestShell(7, "QUIVER_HOME='\(registry)' '\(quiver)' \(arguments) > /dev/null")
        let what = "quiver \(arguments)\(registry == empty ? " (empty registry)" : "")"
        let figure = seconds.map { Measure.format($0 * 1000, 1) + " ms" } ?? "failed"
        print("  \(what.padding(toLength: 36, withPad: " ", startingAt: 0)) \(figure)")
    }
    try runBlocking {
        let server = try await BenchServer.quiverServe(home: home)
        defer { server.stop() }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        for path in ["/", "/?page=50", "/api/adapters?n=100", "/api/adapters"] {
            var best = Double.infinity, bytes = 0, status: UInt = 200
            for _ in 0..<10 where status == 200 {
                let start = DispatchTime.now().uptimeNanoseconds
                let response = try await http.execute(HTTPClientRequest(url: server.url + path), timeout: .seconds(60))
                let body = try await response.body.collect(upTo: 1 << 30)
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
                (bytes, status) = (body.readableBytes, response.status.code)
            }
            let figure = status == 200 ? "\(Measure.format(best * 1000, 1)) ms, \(bytes / 1000) kB (best of 10)" : "answered \(status)"
            print("  GET \(path.padding(toLength: 32, withPad: " ", startingAt: 0)) \(figure)")
        }
        try await http.shutdown()
    }
}
