import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import QuiverStore
import QuiverModel
import Testing

@testable import QuiverHub

/// A registry in a temporary folder for one test, removed at the end. `filled()` holds the sample
/// base model `tiny-bert`, adapters `sentiment`, `topic` (version `v2`), `entailment` (LoRA) and
/// the fusion `review` over sentiment and topic; `withBase()` only the base; `empty()` nothing.
///
/// The samples and the filled registry are made once per test process and copied.
final class ServerWorkspace: @unchecked Sendable {
    let root: String
    let registry: Registry

    private static let templateRoot = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-hub-template-\(UUID().uuidString)").path

    private static let template: String = {
        let root = templateRoot
        atexit { try? FileManager.default.removeItem(atPath: ServerWorkspace.templateRoot) }
        try! SampleFolders.write(to: root + "/samples", seed: 11)
        let registry = try! Registry(home: root + "/registry")
        try! registry.addBase(folder: root + "/samples/tiny-bert")
        try! FileManager.default.copyItem(atPath: root + "/registry", toPath: root + "/registry-with-base")
        try! registry.push(Reference(parsing: "sentiment"), folder: root + "/samples/sentiment", description: "Movie reviews <b>positive</b> & negative")
        try! registry.push(Reference(parsing: "topic:v2"), folder: root + "/samples/topic")
        try! registry.push(Reference(parsing: "entailment"), folder: root + "/samples/entailment")
        try! registry.importFusion(
            members: [Reference(parsing: "sentiment"), Reference(parsing: "topic:v2")], as: Reference(parsing: "review"),
            folder: root + "/samples/review-fusion")
        return root
    }()

    private init(copying template: String?) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-hub-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        if let template {
            try FileManager.default.copyItem(atPath: Self.template + "/" + template, toPath: root + "/registry")
        }
        registry = try Registry(home: root + "/registry")
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    static func filled() throws -> ServerWorkspace { try ServerWorkspace(copying: "registry") }

    /// A registry holding only the sample base model.
    static func withBase() throws -> ServerWorkspace { try ServerWorkspace(copying: "registry-with-base") }

    static func empty() throws -> ServerWorkspace { try ServerWorkspace(copying: nil) }

    var samples: String { Self.template + "/samples" }

    /// The application of `quiver serve` on this registry.
    func app(
        token: String? = nil, anonymousRead: Bool = true, anonymousWrites: ServerSettings.AnonymousWrites = .loopbackOnly,
        publicURLs: [String] = [], namespace: String = "quiver", limits: ServerLimits = ServerLimits()
    ) throws -> some ApplicationProtocol {
        let settings = try ServerSettings(
            home: registry.home, port: 0, namespace: namespace, token: token, anonymousRead: anonymousRead,
            anonymousWrites: anonymousWrites, publicURLs: publicURLs, limits: limits)
        var logger = Logger(label: "quiver-serve-test")
        logger.logLevel = .warning
        return try buildApplication(settings: settings, registry: registry, logger: logger)
    }

    /// Everything observable about the registry's content (blob files, catalog rows, staged uploads).
    struct Snapshot: Equatable {
        var blobFiles: Set<String>
        var artifacts: [String]
        var bases: [String]
        var stagedBlobs: Set<String>
    }

    func snapshot() throws -> Snapshot {
        let staged = (try? FileManager.default.contentsOfDirectory(atPath: registry.home + "/uploads/blobs")) ?? []
        return Snapshot(
            blobFiles: Set(try FileManager.default.contentsOfDirectory(atPath: registry.blobs.blobsDirectory)),
            artifacts: try registry.list().map { "\($0.task):\($0.version):\($0.digest):\($0.tags)" },
            bases: try registry.baseModels().map { "\($0.name):\($0.manifestDigest)" },
            stagedBlobs: Set(staged))
    }
}

// MARK: - Requests

extension TestResponse {
    var text: String { String(buffer: body) }

    var bytes: [UInt8] { Array(body.readableBytesView) }

    /// The body as a JSON object.
    var object: [String: Any] {
        get throws { try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any], "not a JSON object: \(text)") }
    }

    /// The body as a JSON array of objects.
    var array: [[String: Any]] {
        get throws { try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [[String: Any]], "not a JSON array: \(text)") }
    }

    /// The first OCI error code of a `{"errors": [...]}` body.
    var ociErrorCode: String? {
        let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        return ((object?["errors"] as? [[String: Any]])?.first?["code"]) as? String
    }

    /// The code of a JSON API `{"error": {...}}` body.
    var apiErrorCode: String? {
        let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
        return (object?["error"] as? [String: Any])?["code"] as? String
    }

    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
}

extension TestClientProtocol {
    /// A request with a byte body.
    func send(_ method: HTTPRequest.Method, _ uri: String, headers: HTTPFields = [:], body: [UInt8]? = nil) async throws -> TestResponse {
        try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
    }

    /// A JSON request body.
    func post(json: Any, to uri: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var fields = headers
        fields[.contentType] = "application/json"
        return try await send(.post, uri, headers: fields, body: Array(try JSONSerialization.data(withJSONObject: json)))
    }
}

func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }
