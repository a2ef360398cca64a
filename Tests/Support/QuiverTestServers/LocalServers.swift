import AsyncHTTPClient
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the hub tests and `quiver-bench hub` share to start registries on 127.0.0.1: a free port,
/// Debian's `docker-registry` and its config, and the wait for a registry's `/v2/` to answer.
public enum LocalServers {
    /// Debian's `docker-registry` (CNCF distribution), when installed.
    public static let dockerRegistryBinary: String? = ["/usr/bin/docker-registry", "/usr/local/bin/docker-registry", "/usr/bin/registry"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// A `docker-registry` config: blobs under `root/data` (deletes allowed), listening on 127.0.0.1:`port`,
    /// warnings only; the access log when `accessLog`; `extra` (an `auth:` section) appended.
    public static func dockerRegistryConfig(root: String, port: Int, accessLog: Bool, extra: String = "") -> String {
        """
        version: 0.1
        log:
          level: warn
          accesslog:
            disabled: \(!accessLog)
        storage:
          filesystem:
            rootdirectory: \(root)/data
          delete:
            enabled: true
        http:
          addr: 127.0.0.1:\(port)
        \(extra)
        """
    }

    /// Polls `url/v2/` every 50 ms until it answers 200 (or 401 when `unauthorizedIsReady`).
    ///
    /// - Throws: `LocalServerError` when `process` exits first (with `exitDetail()`) or after `seconds`.
    public static func waitUntilReady(
        _ process: Process, url: String, name: String, seconds: Int, unauthorizedIsReady: Bool = false,
        exitDetail: () -> String
    ) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw LocalServerError("\(name) exited: \(exitDetail())") }
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: url + "/v2/"), timeout: .seconds(1)) {
                _ = try? await response.body.collect(upTo: 1 << 16)
                if response.status.code == 200 || (unauthorizedIsReady && response.status.code == 401) { return }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw LocalServerError("\(name) did not answer on \(url) within \(seconds) s")
    }

    /// A TCP port nothing listens on right now.
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LocalServerError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw LocalServerError("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A server that could not be started, with the reason.
public struct LocalServerError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
