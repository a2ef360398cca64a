import Foundation
import QuiverModel
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
    /// Who may write without a token (with one, nobody may).
    public var anonymousWrites: AnonymousWrites
    /// The URLs clients reach the server by when they are not its listening addresses (a reverse
    /// proxy, a DNS name): their hosts are accepted in `Host` headers.
    public var publicURLs: [String]
    public var limits: ServerLimits

    /// Writes without a token: a server reachable from other machines must not take them by accident.
    public enum AnonymousWrites: Sendable, Equatable {
        /// Accepted only when the server listens on loopback addresses; refusing to start otherwise.
        case loopbackOnly
        /// Accepted on any address (`--allow-anonymous-writes`).
        case allowed
        /// Never accepted: the server is read-only (`--read-only`), with or without a token.
        case readOnly
    }

    /// - Throws: `QuiverError(.invalidName)` for a namespace outside the OCI repository grammar,
    ///   `.invalidInput` for an empty token, reads closed without a token, a malformed public URL, or
    ///   anonymous writes on an address other machines reach (without `.allowed`).
    public init(
        home: String, host: String = "127.0.0.1", port: Int = 8080, namespace: String = "quiver", token: String? = nil,
        anonymousRead: Bool = true, anonymousWrites: AnonymousWrites = .loopbackOnly, publicURLs: [String] = [],
        limits: ServerLimits = ServerLimits()
    ) throws {
        try RepositoryName.validateNamespace(namespace)
        if let token, token.isEmpty || token.contains(where: { $0.isWhitespace || $0.isNewline }) {
            throw QuiverError(.invalidInput, "the server token must be non-empty and without white space")
        }
        if token == nil, !anonymousRead {
            throw QuiverError(.invalidInput, "closing anonymous reads needs a token (--token or QUIVER_TOKEN)")
        }
        guard (0...65535).contains(port) else { throw QuiverError(.invalidInput, "port \(port) is not in 0...65535") }
        for url in publicURLs { _ = try HostAllowList.host(ofPublicURL: url) }
        if token == nil, anonymousWrites == .loopbackOnly, HostAllowList.reachesOtherMachines(host: host) {
            throw QuiverError(
                .invalidInput,
                "without a token, \(host) would take anonymous writes from other machines: set QUIVER_TOKEN (or --token), or pass --read-only or --allow-anonymous-writes")
        }
        self.home = home
        self.host = host
        self.port = port
        self.namespace = namespace
        self.token = token
        self.anonymousRead = anonymousRead
        self.anonymousWrites = anonymousWrites
        self.publicURLs = publicURLs
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
    /// Uploads in progress at once from one client address, so that one client cannot take them all.
    public var uploadsPerClient = 8
    /// Bytes held for manifests to come (uploads in progress and finished blobs); more are refused
    /// with `TOOMANYREQUESTS` until manifests take them or they expire.
    public var stagedBytes = 32 << 30
    /// A finished blob no manifest took this long is deleted.
    public var uploadLifetime: TimeInterval = 3600
    /// An upload that received no byte this long is deleted, also in the middle of a request.
    public var uploadIdleTimeout: TimeInterval = 300
    /// How often expired uploads are looked for.
    public var expiryInterval: TimeInterval = 60
    /// A connection that sends nothing this long (between requests or within a body) is closed.
    public var connectionIdleTimeout: TimeInterval = 60
    /// The longest one request body may take to arrive (uploads, manifests, inference).
    public var requestBodyTimeout: TimeInterval = 900
    /// Texts in one inference request.
    public var inferenceTexts = 256
    /// Tasks in one inference request.
    public var inferenceTasks = 16
    /// Inference requests waiting or running at once (their texts share encoder passes); beyond that the server
    /// answers 503.
    public var inferenceQueue = 32
    /// Tokens of one encoder pass, all requests and every task's copy counted.
    public var inferenceTokensPerPass = PassBudget.defaultTokens
    /// Adapters kept loaded, by manifest digest.
    public var cachedAdapters = 64
    /// Base models kept loaded; a base is replaced only once it has been idle for `baseResidency`.
    public var cachedBases = 2
    /// How long a loaded base model stays before another may take its place: requests for a base
    /// that would need such an eviction are refused with 503 and `Retry-After` instead of reloading.
    public var baseResidency: TimeInterval = 30
    /// Entries per page of `_catalog` and `tags/list` when the client gives no `n`, and the largest `n`.
    public var pageSize = 1000

    public init() {}
}
