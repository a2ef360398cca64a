import Foundation
import QuiverStore

/// How `quiver serve` runs: where it listens, the namespace it answers for, who may read and write,
/// and the limits it enforces.
///
/// ```swift
/// let settings = try ServerSettings(home: "registry", namespace: "quiver", token: "s3cret")
/// let app = try buildApplication(settings: settings)
/// try await app.runService()
/// ```
public struct ServerSettings: Sendable {
    /// The registry folder served.
    public var home: String
    public var host: String
    public var port: Int
    /// The first components of every repository served: `NAMESPACE/TASK`, `NAMESPACE/base/NAME`.
    public var namespace: String
    /// The bearer token writes need (and reads too, without anonymous reads); nil means no auth at all.
    public var token: String?
    /// Whether requests without the token may read (pull, list, the web page, inference).
    public var anonymousRead: Bool
    public var limits: ServerLimits

    /// - Throws: `QuiverError(.invalidName)` for a namespace outside the OCI repository grammar,
    ///   `.invalidInput` for an empty token or reads closed without a token.
    public init(
        home: String, host: String = "127.0.0.1", port: Int = 8080, namespace: String = "quiver", token: String? = nil,
        anonymousRead: Bool = true, limits: ServerLimits = ServerLimits()
    ) throws {
        try RepositoryName.validateNamespace(namespace)
        if let token, token.isEmpty || token.contains(where: { $0.isWhitespace || $0.isNewline }) {
            throw QuiverError(.invalidInput, "the server token must be non-empty and without white space")
        }
        if token == nil, !anonymousRead {
            throw QuiverError(.invalidInput, "closing anonymous reads needs a token (--token or QUIVER_TOKEN)")
        }
        guard (0...65535).contains(port) else { throw QuiverError(.invalidInput, "port \(port) is not in 0...65535") }
        self.home = home
        self.host = host
        self.port = port
        self.namespace = namespace
        self.token = token
        self.anonymousRead = anonymousRead
        self.limits = limits
    }
}

/// Bounds on what one request may ask of the server.
public struct ServerLimits: Sendable {
    /// Largest manifest accepted by `PUT /v2/<name>/manifests/<reference>`.
    public var manifestBytes = 4 << 20
    /// Largest body of `POST /v1/infer`.
    public var inferenceBodyBytes = 1 << 20
    /// Largest blob one upload may build, over all its chunks.
    public var uploadBytes = 8 << 30
    /// Largest body of one upload request (a `PATCH` chunk, or a monolithic `POST`/`PUT`).
    public var uploadChunkBytes = 8 << 30
    /// Uploads in progress at once; more are refused with `TOOMANYREQUESTS`.
    public var concurrentUploads = 64
    /// An upload untouched this long, or a finished blob no manifest took this long, is deleted.
    public var uploadLifetime: TimeInterval = 3600
    /// Texts in one inference request.
    public var inferenceTexts = 256
    /// Tasks in one inference request.
    public var inferenceTasks = 16
    /// Inference requests running at once (each one already uses every core).
    public var inferenceSlots = 1
    /// Inference requests waiting for a slot; beyond that the server answers 503.
    public var inferenceQueue = 32
    /// Adapters kept loaded, by manifest digest.
    public var cachedAdapters = 64
    /// Entries per page of `_catalog` and `tags/list` when the client gives no `n`, and the largest `n`.
    public var pageSize = 1000

    public init() {}
}
