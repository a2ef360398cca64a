import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import QuiverHub
import QuiverStore
import QuiverModel
import Testing

/// A registry the client tests run against: Debian's `docker-registry` or `quiver serve`. The
/// scenarios in `RemoteScenarios.swift` run on both, so the client and the server are held to one
/// standard.
protocol RemoteTestServer: Sendable {
    /// The base URL, without a namespace.
    var url: String { get }
    /// Flips one byte in the middle of a stored blob.
    func damageBlob(_ hex: String) throws
}

extension RemoteTestServer {
    func location(namespace: String = "quiver") throws -> RemoteLocation {
        try RemoteLocation(parsing: url + "/" + namespace)
    }

    /// Runs `body` with a client of this registry's `namespace`.
    func withClient<T: Sendable>(
        namespace: String = "quiver", credentials: RemoteCredentials = RemoteCredentials(), options: TransferOptions = TransferOptions(),
        _ body: (DistributionClient) async throws -> T
    ) async throws -> T {
        try await DistributionClient.with(location: try location(namespace: namespace), credentials: credentials, options: options, body)
    }
}

extension DockerRegistryServer: RemoteTestServer {}

/// `quiver serve` — the application `buildApplication` makes — on a free port of 127.0.0.1 for one
/// test, serving `registry`.
struct QuiverServeServer: RemoteTestServer {
    let url: String
    let registry: Registry

    static func with<T: Sendable>(
        registry: Registry, token: String? = nil, _ body: @Sendable (QuiverServeServer) async throws -> T
    ) async throws -> T {
        let settings = try ServerSettings(home: registry.home, port: 0, token: token)
        var logger = Logger(label: "quiver-serve-test")
        logger.logLevel = .warning
        let app = try buildApplication(settings: settings, registry: registry, logger: logger)
        return try await app.test(.live) { client in
            let port = try #require(client.port)
            return try await body(QuiverServeServer(url: "http://127.0.0.1:\(port)", registry: registry))
        }
    }

    func damageBlob(_ hex: String) throws {
        let path = registry.blobs.path(of: try Digest(parsing: "sha256:" + hex))
        var bytes = try readFile(path)
        bytes[bytes.count / 2] ^= 0x40
        try? FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Uploads the server holds but has not taken into its store yet (sessions and verified blobs).
    func stagedUploads() -> [String] {
        ["sessions", "blobs"].flatMap { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: registry.home + "/uploads/" + folder)) ?? []).map { folder + "/" + $0 }
        }
    }
}
