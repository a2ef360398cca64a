import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import QuiverModel
import QuiverStore

/// Chooses the `Authorization` header of each request and answers `401` challenges: a bearer
/// token given by the user, basic credentials, or a token bought from the registry's token
/// service (the distribution spec's `WWW-Authenticate: Bearer realm=…,service=…,scope=…`), cached
/// per scope. Credentials leave this type only inside headers.
actor Authenticator {
    private let credentials: RemoteCredentials
    private let remote: RemoteLocation
    private let http: HTTPClient
    private let timeout: TimeAmount
    /// Tokens from the token service, by scope.
    private var tokens: [AccessScope: String] = [:]
    /// Token requests in flight, so concurrent challenges for one scope buy one token.
    private var pending: [AccessScope: Task<String, any Error>] = [:]
    /// Set when the remote answered our bearer token with a basic challenge.
    private var preferBasic = false
    /// How many tokens were bought (tests check the cache with it).
    private(set) var tokensFetched = 0

    init(credentials: RemoteCredentials, remote: RemoteLocation, http: HTTPClient, timeout: TimeAmount) {
        self.credentials = credentials
        self.remote = remote
        self.http = http
        self.timeout = timeout
    }

    var hasCredentials: Bool { !credentials.isEmpty }

    /// The header value to send for a request needing `scope`, if any.
    func authorization(for scope: AccessScope) -> String? {
        if let token = tokens[scope] { return "Bearer " + token }
        if let token = credentials.token, !preferBasic { return "Bearer " + token }
        return credentials.basic?.headerValue
    }

    /// Reacts to a `401`: true when retrying the request may now succeed.
    func answer(challengeHeaders: [String], scope: AccessScope, sent: String?) async throws -> Bool {
        let challenges = challengeHeaders.flatMap(AuthChallenge.parse)
        if let bearer = challenges.first(where: { $0.scheme == "bearer" }), let realm = bearer.parameters["realm"] {
            // The user's own token was refused: without basic credentials a token service has
            // nothing to go on, so the 401 itself is the answer (`quiver serve` with a wrong token).
            if let token = credentials.token, sent == "Bearer " + token, credentials.basic == nil { return false }
            if let token = tokens[scope], sent == "Bearer " + token {
                tokens[scope] = nil  // expired: buy a new one once
            } else if tokens[scope] != nil {
                return true  // another request bought one meanwhile
            }
            tokens[scope] = try await fetchToken(realm: realm, service: bearer.parameters["service"], scope: bearer.parameters["scope"] ?? scope.text, for: scope)
            return true
        }
        if challenges.contains(where: { $0.scheme == "basic" }), let basic = credentials.basic, sent != basic.headerValue {
            preferBasic = true
            return true
        }
        return false
    }

    // MARK: - Token service

    private func fetchToken(realm: String, service: String?, scope: String, for key: AccessScope) async throws -> String {
        if let task = pending[key] { return try await task.value }
        let task = Task { try await self.requestToken(realm: realm, service: service, scope: scope) }
        pending[key] = task
        defer { pending[key] = nil }
        return try await task.value
    }

    private func requestToken(realm: String, service: String?, scope: String) async throws -> String {
        guard var components = URLComponents(string: realm), let scheme = components.scheme, scheme == "http" || scheme == "https" else {
            throw QuiverError(.io, "the remote's token service realm '\(RemoteLocation.withoutCredentials(realm))' is not an http(s) URL")
        }
        var query = components.queryItems ?? []
        if let service { query.append(URLQueryItem(name: "service", value: service)) }
        for part in scope.split(separator: " ") { query.append(URLQueryItem(name: "scope", value: String(part))) }
        components.queryItems = query
        guard let url = components.string else {
            throw QuiverError(.io, "cannot build a token request for realm '\(RemoteLocation.withoutCredentials(realm))'")
        }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: DistributionClient.userAgent)
        // Basic credentials go to the token service over https, or over http to the remote's own host
        // when credentials may go there over http (this machine, or a remote saved as insecure).
        let remoteHost = remote.host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if let basic = credentials.basic, scheme == "https" || (components.host?.lowercased() == remoteHost && (remote.isLoopback || remote.insecure)) {
            request.headers.add(name: "Authorization", value: basic.headerValue)
        }
        let shownRealm = RemoteLocation.withoutCredentials(realm)
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: timeout)
        } catch {
            throw QuiverError(.io, "cannot reach the token service \(shownRealm): \(error)")
        }
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .ok else {
            let reason = response.status == .unauthorized || response.status == .forbidden
                ? "it answered \(response.status.code) and "
                    + (credentials.basic == nil
                        ? "needs credentials (\(RemoteCredentials.hint))" : "refused the credentials")
                : "it answered \(response.status.code)"
            throw QuiverError(.io, "the token service \(shownRealm) gave no token for \(scope): \(reason)")
        }
        struct TokenAnswer: Decodable {
            var token: String?
            var access_token: String?
        }
        guard let answer = try? JSONDecoder().decode(TokenAnswer.self, from: Data(body.readableBytesView)),
              let token = answer.token ?? answer.access_token, !token.isEmpty
        else {
            throw QuiverError(.io, "the token service \(shownRealm) answered without a token")
        }
        tokensFetched += 1
        return token
    }
}
