import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import QuiverModel
import QuiverStore

/// A client of the OCI Distribution API (any OCI registry, or `quiver serve`) for one remote: its
/// base URL, namespace and credentials. It speaks the protocol; `RemotePush`, `RemotePull` and
/// `RemoteCatalog` move Quiver artifacts with it.
///
/// ```swift
/// try await DistributionClient.with(location: remote, credentials: credentials) { client in
///     let tags = try await client.tags(of: remote.repository("sentiment"))
/// }
/// ```
public final class DistributionClient: Sendable {
    public static let userAgent = "quiver"

    public let location: RemoteLocation
    public let options: TransferOptions
    let http: HTTPClient
    let authenticator: Authenticator
    /// Whether the remote stores a blob sent whole in the body of its `POST …/blobs/uploads/?digest=`
    /// (the spec's single-request upload, as `quiver serve` does); once it has not (docker-registry
    /// opens a session and drops the bytes), small blobs go as `POST` then `PUT`.
    let takesBlobsInPost = Locked(true)

    /// A client with its own connection pool; call `shutdown()` when done (or use `with`).
    public init(location: RemoteLocation, credentials: RemoteCredentials, options: TransferOptions = TransferOptions()) {
        self.location = location
        self.options = options
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,  // followed by hand, without leaking credentials to other hosts
            timeout: .init(connect: options.connectTimeout, read: options.readTimeout))
        configuration.decompression = .disabled
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = max(8, options.parallelTransfers * 2)
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        authenticator = Authenticator(
            credentials: credentials, remote: location, http: http, timeout: options.connectTimeout + options.readTimeout)
    }

    /// Runs `body` with a client and shuts it down afterwards, whatever happens. Refuses credentials
    /// meant for plain http to another machine (`RemoteCredentials.check(sendingTo:)`).
    public static func with<T: Sendable>(
        location: RemoteLocation, credentials: RemoteCredentials, options: TransferOptions = TransferOptions(),
        _ body: (DistributionClient) async throws -> T
    ) async throws -> T {
        try credentials.check(sendingTo: location)
        let client = DistributionClient(location: location, credentials: credentials, options: options)
        do {
            let result = try await body(client)
            try? await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    public func shutdown() async throws {
        try await http.shutdown()
    }

    /// How many tokens were bought from the remote's token service so far.
    public var tokensFetched: Int {
        get async { await authenticator.tokensFetched }
    }

    // MARK: - Requests

    /// One request, described so it can be sent again (after a challenge or a redirect).
    struct Request: Sendable {
        var method: HTTPMethod
        var url: String
        var headers = HTTPHeaders()
        var body: ByteBuffer?
        var scope: AccessScope
        /// GET and HEAD of blobs follow redirects (to a CDN or object store).
        var followsRedirects = false

        /// Requests that may be sent again after a server error (`5xx`). Any request may be sent again after `429`
        /// (`retryPause(after:of:attempt:)`).
        var isIdempotent: Bool {
            method == .GET || method == .HEAD || (method == .PUT && url.contains("/manifests/"))
        }
    }

    /// How often a server error is retried for idempotent requests, and the first pause.
    static let serverErrorRetries = 3
    static let retryPause: Duration = .milliseconds(100)
    /// The longest `Retry-After` a `429` is waited for; a server asking for more is answered with its error at once.
    static let longestRetryAfter = 10

    /// How long to wait before sending `request` again after `response` (`attempt` counts from 1), or nil when it is
    /// not sent again. A `5xx` is retried for idempotent requests only. A `429` turned the request away without
    /// acting on it (RFC 6585), so any request — the `POST` that opens an upload too — is sent again, after the
    /// server's `Retry-After` in seconds when it asks for at most `longestRetryAfter`.
    static func retryPause(after response: HTTPClientResponse, of request: Request, attempt: Int) -> Duration? {
        let backoff = retryPause * (1 << (attempt - 1))
        guard response.status == .tooManyRequests else {
            return request.isIdempotent && response.status.code >= 500 ? backoff : nil
        }
        guard let header = response.headers.first(name: "Retry-After") else { return backoff }
        guard let seconds = Int(header.trimmingCharacters(in: .whitespaces)), (0...longestRetryAfter).contains(seconds) else {
            return nil  // a long pause, or an HTTP date: the caller reports the refusal
        }
        return max(backoff, .seconds(seconds))
    }

    /// The URL of an API path such as `/v2/quiver/sentiment/tags/list`.
    func url(_ path: String) -> String { location.baseURL + path }

    /// Sends a request with the right `Authorization`, answering one `401` challenge and following
    /// redirects when asked. The caller reads (or drops) the response body.
    func send(_ request: Request) async throws -> HTTPClientResponse {
        var request = request
        var challenged = false
        var redirects = 0
        var serverErrors = 0
        while true {
            var outgoing = HTTPClientRequest(url: request.url)
            outgoing.method = request.method
            outgoing.headers = request.headers
            outgoing.headers.replaceOrAdd(name: "User-Agent", value: Self.userAgent)
            let sameOrigin = request.url.hasPrefix(location.baseURL + "/")
            var sent: String?
            if sameOrigin, let authorization = await authenticator.authorization(for: request.scope) {
                outgoing.headers.replaceOrAdd(name: "Authorization", value: authorization)
                sent = authorization
            }
            if let body = request.body {
                outgoing.body = .bytes(body)
            } else if request.method == .PUT || request.method == .POST || request.method == .PATCH {
                outgoing.headers.replaceOrAdd(name: "Content-Length", value: "0")
            }
            let response: HTTPClientResponse
            do {
                response = try await http.execute(outgoing, timeout: options.connectTimeout + options.readTimeout)
            } catch {
                throw QuiverError(.io, "cannot reach \(location.baseURL) (\(request.method) \(Self.path(of: request.url))): \(describe(error))")
            }
            if response.status == .unauthorized, sameOrigin, !challenged {
                challenged = true
                if try await authenticator.answer(challengeHeaders: response.headers["WWW-Authenticate"], scope: request.scope, sent: sent) {
                    await Self.drain(response)
                    continue
                }
                return response
            }
            // Busy or briefly inconsistent registries (a tag being rewritten by another client) recover.
            if serverErrors < Self.serverErrorRetries,
               let pause = Self.retryPause(after: response, of: request, attempt: serverErrors + 1)
            {
                serverErrors += 1
                await Self.drain(response)
                try await Task.sleep(for: pause)
                continue
            }
            if request.followsRedirects, [301, 302, 303, 307, 308].contains(response.status.code),
               let target = response.headers.first(name: "Location")
            {
                await Self.drain(response)
                redirects += 1
                guard redirects <= 5 else {
                    throw QuiverError(.io, "\(location.baseURL) redirected \(Self.path(of: request.url)) more than 5 times")
                }
                let next = Self.resolve(target, against: request.url)
                let scheme = URLComponents(string: next)?.scheme?.lowercased() ?? ""
                guard scheme == "http" || scheme == "https" else {
                    throw QuiverError(
                        .io,
                        "\(location.baseURL) redirected \(Self.path(of: request.url)) to a \(scheme.isEmpty ? "malformed" : scheme) URL: only http and https are followed")
                }
                request.url = next
                continue
            }
            return response
        }
    }

    // MARK: - Helpers

    /// Reads and drops what is left of a response body (so its connection can be reused).
    static func drain(_ response: HTTPClientResponse) async {
        _ = try? await response.body.collect(upTo: 1 << 20)
    }

    /// A `Location` header resolved against the URL it answered.
    static func resolve(_ location: String, against base: String) -> String {
        URL(string: location, relativeTo: URL(string: base))?.absoluteString ?? location
    }

    /// The path and query of a URL, for messages (never the credentials).
    static func path(of url: String) -> String {
        guard let components = URLComponents(string: url) else { return url }
        return components.percentEncodedPath
    }

    /// A transport error in words; timeouts say how long was waited.
    func describe(_ error: any Error) -> String {
        switch error as? HTTPClientError {
        case .readTimeout?: "no data for \(Self.seconds(options.readTimeout)) (the read timeout)"
        case .deadlineExceeded?: "no answer within \(Self.seconds(options.connectTimeout + options.readTimeout))"
        case .connectTimeout?: "no connection within \(Self.seconds(options.connectTimeout))"
        default: String(describing: error)
        }
    }

    private static func seconds(_ time: TimeAmount) -> String { "\(time.nanoseconds / 1_000_000_000) s" }
}
