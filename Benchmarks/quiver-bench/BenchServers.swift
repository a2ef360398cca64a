import Foundation
import QuiverTestServers

// MARK: - Registries started by the hub suite

/// A registry process the hub suite starts on 127.0.0.1 and stops afterwards: `quiver serve` (the
/// release binary next to `quiver-bench`) or Debian's `docker-registry` with its own config and data
/// folder (`QuiverTestServers`, shared with the hub tests).
final class BenchServer: @unchecked Sendable {
    let name: String
    let port: Int
    let root: String
    private let process: Process

    var url: String { "http://127.0.0.1:\(port)" }
    var pid: Int32 { process.processIdentifier }

    /// The `quiver` executable built next to this one.
    static let quiverBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("quiver").path

    private init(name: String, port: Int, root: String, process: Process) {
        self.name = name
        self.port = port
        self.root = root
        self.process = process
    }

    /// `quiver serve` over the registry folder `home` (no token: writes are open on loopback).
    static func quiverServe(home: String, binary: String = quiverBinary) async throws -> BenchServer {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchError("\(binary) is missing: swift build -c release --product quiver")
        }
        let port = try LocalServers.freePort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", String(port)]
        var environment = ProcessInfo.processInfo.environment
        environment["QUIVER_HOME"] = home
        environment.removeValue(forKey: "QUIVER_TOKEN")
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try logHandle(home + ".serve.log")
        try process.run()
        let server = BenchServer(
            name: binary == quiverBinary ? "quiver serve" : "quiver serve (\(URL(fileURLWithPath: binary).lastPathComponent))",
            port: port, root: home, process: process)
        try await server.waitUntilReady()
        return server
    }

    /// Debian's `docker-registry` (CNCF distribution) with a fresh data folder under `root`.
    static func dockerRegistry(root: String) async throws -> BenchServer {
        guard let binary = LocalServers.dockerRegistryBinary else { throw BenchError("docker-registry is not installed (make deps)") }
        try FileManager.default.createDirectory(atPath: root + "/data", withIntermediateDirectories: true)
        let port = try LocalServers.freePort()
        let config = LocalServers.dockerRegistryConfig(root: root, port: port, accessLog: false)
        try config.write(toFile: root + "/config.yml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", root + "/config.yml"]
        let log = try logHandle(root + "/registry.log")
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let server = BenchServer(name: "docker-registry", port: port, root: root, process: process)
        try await server.waitUntilReady()
        return server
    }

    private static func logHandle(_ path: String) throws -> FileHandle {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        return try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    private func waitUntilReady() async throws {
        try await LocalServers.waitUntilReady(process, url: url, name: name, seconds: 30) { "at start (log under \(root))" }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }

    // MARK: Memory

    /// `VmRSS` and `VmHWM` (peak) of the server process, in bytes, from `/proc/PID/status`.
    func memory() -> (rss: Int, peak: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func field(_ name: String) -> Int? {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return nil }
            return line.split(separator: " ").compactMap { Int($0) }.first.map { $0 * 1024 }
        }
        guard let rss = field("VmRSS"), let peak = field("VmHWM") else { return nil }
        return (rss, peak)
    }
}

/// Runs an async suite from the synchronous `main.swift` dispatch.
func runBlocking(_ body: @escaping @Sendable () async throws -> Void) throws {
    final class Outcome: @unchecked Sendable { var error: (any Error)? }
    let outcome = Outcome()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { try await body() } catch { outcome.error = error }
        done.signal()
    }
    done.wait()
    if let error = outcome.error { throw error }
}
