import Foundation
import Hummingbird
import QuiverModel
import QuiverStore

/// Who may do what, checked once for every route before any controller runs.
///
/// With a token, writes need it (as `Authorization: Bearer TOKEN`, or Basic auth with any user name
/// and the token as password); reads need it too when anonymous reads are off. A read-only server
/// refuses every write. Refusals are answered in the format of the area asked: the distribution
/// spec's error with a Bearer challenge under `/v2/`, the JSON API's error under `/api/` and `/v1/`,
/// and a Basic challenge (so that a browser asks for the token) on the web page.
///
/// Tokens are compared in constant time and never logged or echoed except by the token endpoint,
/// to a client that presented it.
struct AccessControl: RouterMiddleware {
    typealias Context = HubRequestContext

    /// What a request needs.
    enum Access: Sendable {
        /// The token endpoint checks credentials itself.
        case open
        case read
        case write
    }

    let token: String?
    let anonymousRead: Bool
    let readOnly: Bool
    /// The service name in challenges (the namespace).
    let service: String
    let namespace: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let needed = Self.access(request)
        if needed == .write, readOnly { throw refusal(request, status: .forbidden, "this server is read-only") }
        guard allows(request, needed) else { throw refusal(request, status: .unauthorized, "authentication required: send Authorization: Bearer <token>") }
        return try await next(request, context)
    }

    /// The access a request needs: reads are GET and HEAD, and inference (a POST that changes nothing).
    static func access(_ request: Request) -> Access {
        let path = request.uri.path
        if path == "/v2/token", request.method == .get { return .open }
        if request.method == .get || request.method == .head { return .read }
        if request.method == .post, path == "/v1/infer" { return .read }
        return .write
    }

    /// Whether the request may have `access`.
    func allows(_ request: Request, _ access: Access) -> Bool {
        guard let token, access != .open else { return true }
        if access == .read, anonymousRead { return true }
        guard let presented = Self.presentedToken(request) else { return false }
        return Self.constantTimeEquals(presented, token)
    }

    /// Whether the request carries the server's token (for the token endpoint).
    static func isAuthenticated(_ request: Request, token: String) -> Bool {
        guard let presented = presentedToken(request) else { return false }
        return constantTimeEquals(presented, token)
    }

    // MARK: - Refusals

    private func refusal(_ request: Request, status: HTTPResponse.Status, _ message: String) -> any Error {
        let path = request.uri.path
        let unauthorized = status == .unauthorized
        if path == "/v2" || path.hasPrefix("/v2/") {
            guard unauthorized else { return RegistryError(.denied, message) }
            return RegistryError(.unauthorized, message, headers: [.wwwAuthenticate: bearerChallenge(request, scope: scope(of: request))])
        }
        if path.hasPrefix("/api/") || path.hasPrefix("/v1/") {
            guard unauthorized else { return APIError(status: status, code: "forbidden", message: message) }
            return APIError(status: status, code: "unauthorized", message: message, headers: [.wwwAuthenticate: bearerChallenge(request)])
        }
        // A browser asks for credentials on a Basic challenge: any user name, the token as password.
        let text = unauthorized ? "authentication required: the server token is the password" : message
        return HTTPError(status, headers: unauthorized ? [.wwwAuthenticate: Self.basicChallenge(service: service)] : [:], message: text)
    }

    /// The scope of a distribution request, for its challenge (`repository:NAME:pull,push`).
    private func scope(of request: Request) -> String? {
        let components = request.uri.path.split(separator: "/").dropFirst()
        guard !components.isEmpty, let route = try? DistributionRoute(components: Array(components), namespace: namespace) else {
            return nil
        }
        let actions = Self.access(request) == .write ? "pull,push" : "pull"
        switch route {
        case .catalog: return "registry:catalog:*"
        case .tags(let name), .manifest(let name, _), .blob(let name, _), .uploads(let name), .upload(let name, _):
            return "repository:\(name):\(actions)"
        }
    }

    /// The `WWW-Authenticate` challenge of the distribution spec, pointing at the token endpoint.
    func bearerChallenge(_ request: Request, scope: String? = nil) -> String {
        var challenge = "Bearer realm=\"\(Self.origin(of: request))/v2/token\",service=\"\(service)\""
        if let scope { challenge += ",scope=\"\(scope)\"" }
        return challenge
    }

    /// A Basic challenge, so that a browser asks for the token (as the password).
    static func basicChallenge(service: String) -> String { "Basic realm=\"\(service)\", charset=\"UTF-8\"" }

    // MARK: - Parsing

    /// The token of a `Bearer` header, or the password of a `Basic` header.
    static func presentedToken(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2 else { return nil }
        let credentials = parts[1].trimmingCharacters(in: .whitespaces)
        switch parts[0].lowercased() {
        case "bearer":
            return credentials
        case "basic":
            guard credentials.utf8.count <= 8192, let data = Data(base64Encoded: credentials),
                  let text = String(data: data, encoding: .utf8), let colon = text.firstIndex(of: ":")
            else { return nil }
            return String(text[text.index(after: colon)...])
        default:
            return nil
        }
    }

    /// Equality whose time does not depend on where the strings differ: both sides are hashed first,
    /// then every byte of the two digests is compared.
    static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let left = Array(Digest.of(Array(a.utf8)).hex.utf8), right = Array(Digest.of(Array(b.utf8)).hex.utf8)
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }

    /// `http://HOST[:PORT]` as the client addressed the server (its Host header, when well formed).
    static func origin(of request: Request) -> String {
        let host = request.head.authority ?? ""
        let allowed = host.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ":")
                || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "]")
        }
        return "http://" + (allowed && !host.isEmpty && host.utf8.count <= 255 ? host : "localhost")
    }
}

/// Answers `421 Misdirected Request` to a request whose `Host` is not one of this server's
/// (`HostAllowList`), whatever route it asks for.
struct HostCheck: RouterMiddleware {
    typealias Context = HubRequestContext

    let allowList: HostAllowList

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard allowList.allows(authority: request.head.authority) else {
            let shown = String((request.head.authority ?? "").unicodeScalars.filter { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F }.prefix(100))
            throw HTTPError(
                .misdirectedRequest,
                message: "this server does not answer for host '\(shown)' (start it with --public-url for names it is reached by)")
        }
        return try await next(request, context)
    }
}
