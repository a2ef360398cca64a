import Foundation
import QuiverTestServers
import Testing

/// A real CNCF distribution registry (Debian's `docker-registry`) started for one test on
/// 127.0.0.1 with a free port, its own config file and data folder, and stopped afterwards.
final class DockerRegistryServer: @unchecked Sendable {
    let root: String
    let port: Int
    private let process: Process
    let logPath: String

    /// The registry's base URL (no namespace).
    var url: String { "http://127.0.0.1:\(port)" }

    /// The folder holding the registry's blobs (`<hex prefix>/<hex>/data`).
    var blobsFolder: String { root + "/data/docker/registry/v2/blobs/sha256" }
    var repositoriesFolder: String { root + "/data/docker/registry/v2/repositories" }

    static let binary = LocalServers.dockerRegistryBinary

    /// Under CI the registry tests must run: a missing binary fails them instead of skipping.
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"
    static let shouldRun = binary != nil || required

    private init(root: String, port: Int, process: Process, logPath: String) {
        self.root = root
        self.port = port
        self.process = process
        self.logPath = logPath
    }

    /// Runs `body` with a fresh registry, stopped and removed afterwards.
    ///
    /// - Parameter htpasswd: an htpasswd line (`user:bcrypt-hash`): the registry then requires basic auth.
    static func with<T>(htpasswd: String? = nil, _ body: (DockerRegistryServer) async throws -> T) async throws -> T {
        let server = try await start(htpasswd: htpasswd)
        defer { server.stop() }
        return try await body(server)
    }

    static func start(htpasswd: String?) async throws -> DockerRegistryServer {
        guard let binary else {
            throw TestFailure("docker-registry is not installed (apt-get install -y docker-registry, or `make deps`)")
        }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-docker-registry-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/data", withIntermediateDirectories: true)
        var lastError: (any Error)?
        for _ in 0..<3 {
            let port = try LocalServers.freePort()
            var auth = ""
            if let htpasswd {
                try (htpasswd + "\n").write(toFile: root + "/htpasswd", atomically: true, encoding: .utf8)
                auth = """
                    auth:
                      htpasswd:
                        realm: quiver-test
                        path: \(root)/htpasswd

                    """
            }
            let config = LocalServers.dockerRegistryConfig(root: root, port: port, accessLog: true, extra: auth)
            try config.write(toFile: root + "/config.yml", atomically: true, encoding: .utf8)
            let logPath = root + "/registry-\(port).log"
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = ["serve", root + "/config.yml"]
            process.standardOutput = log
            process.standardError = log
            try process.run()
            let server = DockerRegistryServer(root: root, port: port, process: process, logPath: logPath)
            do {
                try await server.waitUntilReady()
                return server
            } catch {
                server.stop(removing: false)
                lastError = error
            }
        }
        try? FileManager.default.removeItem(atPath: root)
        throw lastError ?? TestFailure("docker-registry did not start")
    }

    /// Polls `/v2/` until it answers (200, or 401 with auth on).
    private func waitUntilReady() async throws {
        try await LocalServers.waitUntilReady(process, url: url, name: "docker-registry", seconds: 15, unauthorizedIsReady: true) {
            (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        }
    }

    func stop(removing: Bool = true) {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        if removing { try? FileManager.default.removeItem(atPath: root) }
    }

    // MARK: - Inspection

    /// The requests the registry logged, as `METHOD PATH STATUS`, once the log is quiet.
    func requests() async throws -> [String] {
        var previous = -1
        var text = ""
        for _ in 0..<20 {
            text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if text.utf8.count == previous { break }
            previous = text.utf8.count
            try await Task.sleep(for: .milliseconds(50))
        }
        return text.split(separator: "\n").compactMap { line in
            guard let match = line.firstMatch(of: /"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP\/[0-9.]+" (\d+)/) else { return nil }
            return "\(match.1) \(match.2) \(match.3)"
        }
    }

    /// The blob data files the registry holds.
    func blobFiles() -> [String] {
        let names = (try? FileManager.default.subpathsOfDirectory(atPath: blobsFolder)) ?? []
        return names.filter { $0.hasSuffix("/data") }.sorted()
    }

    /// Flips one byte in the middle of a stored blob.
    func damageBlob(_ hex: String) throws {
        let path = "\(blobsFolder)/\(hex.prefix(2))/\(hex)/data"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}

/// A failed test precondition, with its reason.
struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
