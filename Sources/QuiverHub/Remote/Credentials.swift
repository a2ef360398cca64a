import Foundation

/// A user name and password for HTTP basic authentication. Its description never shows the password.
public struct BasicCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    /// The value of an `Authorization` header.
    var headerValue: String {
        "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()
    }

    public var description: String { "\(username):<hidden>" }
    public var debugDescription: String { description }
}

/// What a client presents to a remote: a bearer token, basic credentials, or both (basic
/// credentials then also buy tokens from the registry's token service).
///
/// Sources, first wins: `--token`, then `QUIVER_TOKEN`; the URL's `user:password@`, then
/// `QUIVER_USERNAME` / `QUIVER_PASSWORD`. Credentials are only ever sent in `Authorization` headers:
/// never printed, logged or written into the registry.
public struct RemoteCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public var token: String?
    public var basic: BasicCredentials?

    public init(token: String? = nil, basic: BasicCredentials? = nil) {
        self.token = token
        self.basic = basic
    }

    /// The credentials for `location`, from the flag, the URL and the environment.
    public static func resolve(
        for location: RemoteLocation, token flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> RemoteCredentials {
        let token = [flag, environment["QUIVER_TOKEN"]].compactMap { $0 }.first { !$0.isEmpty }
        var basic = location.credentials
        if basic == nil, let username = environment["QUIVER_USERNAME"], !username.isEmpty {
            basic = BasicCredentials(username: username, password: environment["QUIVER_PASSWORD"] ?? "")
        }
        return RemoteCredentials(token: token, basic: basic)
    }

    public var isEmpty: Bool { token == nil && basic == nil }

    public var description: String {
        [token.map { _ in "token <hidden>" }, basic.map { "basic \($0)" }].compactMap { $0 }.joined(separator: ", ")
    }

    public var debugDescription: String { description }
}
