import Foundation
import QuiverModel
import QuiverStore

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
/// Credentials belong to one registry, as `docker login` credentials do: `--token` and a URL's
/// `user:password@` to the remote named on that command line; `QUIVER_TOKEN`, `QUIVER_USERNAME` and
/// `QUIVER_PASSWORD` to the registry `QUIVER_REMOTE` names — the same scheme, host and port, whatever
/// the namespace — and to no other. The flag wins over the environment, the URL over the
/// environment's user. Credentials are only ever sent in `Authorization` headers, never over plain
/// http to another machine unless the remote is saved as insecure (`check(sendingTo:)`), and never
/// printed, logged or written into the registry.
public struct RemoteCredentials: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    public var token: String?
    public var basic: BasicCredentials?

    public init(token: String? = nil, basic: BasicCredentials? = nil) {
        self.token = token
        self.basic = basic
    }

    /// The credentials for `location`: the flag's token and the URL's user, then the environment's
    /// when `QUIVER_REMOTE` names the same registry (a saved name is looked up in `home`).
    public static func resolve(
        for location: RemoteLocation, token flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        home: String? = nil
    ) -> RemoteCredentials {
        var credentials = RemoteCredentials(token: flag.flatMap { $0.isEmpty ? nil : $0 }, basic: location.credentials)
        guard let bound = RemoteResolution.defaultRemote(environment: environment).flatMap({ text in
            text.contains("://") ? try? RemoteLocation(parsing: text) : home.flatMap { try? SavedRemotes(home: $0).location(named: text) }
        }), bound.origin == location.origin else { return credentials }
        if credentials.token == nil, let token = environment["QUIVER_TOKEN"], !token.isEmpty { credentials.token = token }
        if credentials.basic == nil, let username = environment["QUIVER_USERNAME"], !username.isEmpty {
            credentials.basic = BasicCredentials(username: username, password: environment["QUIVER_PASSWORD"] ?? "")
        }
        return credentials
    }

    /// Where credentials come from, for messages about missing ones.
    static let hint = "QUIVER_TOKEN or --token, or QUIVER_USERNAME and QUIVER_PASSWORD; the environment's go to the registry QUIVER_REMOTE names"

    /// Refuses to send credentials over plain http to another machine, unless the remote was saved
    /// as insecure (`quiver remote add NAME URL --insecure`).
    public func check(sendingTo location: RemoteLocation) throws {
        guard !isEmpty, location.scheme == "http", !location.isLoopback, !location.insecure else { return }
        throw QuiverError(
            .invalidInput,
            "refusing to send credentials to \(location.host) over plain http: use https, or, on a network you trust, save the remote with `quiver remote add NAME \(location) --insecure`")
    }

    public var isEmpty: Bool { token == nil && basic == nil }

    public var description: String {
        [token.map { _ in "token <hidden>" }, basic.map { "basic \($0)" }].compactMap { $0 }.joined(separator: ", ")
    }

    public var debugDescription: String { description }
}
