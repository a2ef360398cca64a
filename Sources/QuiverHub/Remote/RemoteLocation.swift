import Foundation
import QuiverModel
import QuiverStore

/// Where a remote is: an OCI registry's base URL and the namespace under which Quiver's
/// repositories live (`NAMESPACE/TASK` for adapters and fusions, `NAMESPACE/base/NAME` for base
/// models).
///
/// ```swift
/// let remote = try RemoteLocation(parsing: "https://registry.example.com:5000/team/nlp")
/// remote.repository("sentiment")   // "team/nlp/sentiment"
/// ```
public struct RemoteLocation: Sendable, Equatable, CustomStringConvertible {
    /// `http` or `https`.
    public var scheme: String
    /// The host as written in the URL (an IPv6 address keeps its brackets).
    public var host: String
    public var port: Int?
    /// One or more repository path components, separated by `/`.
    public var namespace: String
    /// Credentials written in the URL (`https://user:pass@host/...`); never part of `description`.
    public var credentials: BasicCredentials?
    /// Saved with `--insecure`: credentials may go to it over plain http.
    public var insecure: Bool

    public init(scheme: String, host: String, port: Int?, namespace: String, credentials: BasicCredentials? = nil, insecure: Bool = false) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.namespace = namespace
        self.credentials = credentials
        self.insecure = insecure
    }

    /// Parses `http(s)://[USER:PASSWORD@]HOST[:PORT]/NAMESPACE`.
    public init(parsing text: String) throws {
        let shown = Self.withoutCredentials(text)
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw QuiverError(.invalidName, "invalid remote URL '\(shown)': expected http(s)://HOST[:PORT]/NAMESPACE")
        }
        guard scheme == "http" || scheme == "https" else {
            throw QuiverError(.invalidName, "invalid remote URL '\(shown)': the scheme must be http or https")
        }
        guard let host = components.percentEncodedHost, !host.isEmpty else {
            throw QuiverError(.invalidName, "invalid remote URL '\(shown)': no host")
        }
        guard components.query == nil, components.fragment == nil else {
            throw QuiverError(.invalidName, "invalid remote URL '\(shown)': no query or fragment allowed")
        }
        var path = components.path
        while path.hasSuffix("/") { path.removeLast() }
        while path.hasPrefix("/") { path.removeFirst() }
        guard !path.isEmpty else {
            throw QuiverError(.invalidName, "invalid remote URL '\(shown)': no namespace (expected http(s)://HOST[:PORT]/NAMESPACE)")
        }
        try Self.validateNamespace(path, url: shown)
        var credentials: BasicCredentials?
        if let user = components.user {
            credentials = BasicCredentials(username: user, password: components.password ?? "")
        }
        self.init(scheme: scheme, host: host, port: components.port, namespace: path, credentials: credentials)
    }

    /// `scheme://host[:port]`, the prefix of every request URL.
    public var baseURL: String {
        "\(scheme)://\(host)" + (port.map { ":\($0)" } ?? "")
    }

    /// `scheme://host:port`, the port always written: the registry credentials belong to.
    public var origin: String {
        "\(scheme)://\(host.lowercased()):\(port ?? (scheme == "https" ? 443 : 80))"
    }

    /// Whether the host is this machine: `localhost`, 127.0.0.0/8 or `[::1]`.
    public var isLoopback: Bool { Self.isLoopback(host: host) }

    static func isLoopback(host: String) -> Bool {
        let name = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if name == "localhost" || name.hasSuffix(".localhost") { return true }
        var ipv4 = in_addr()
        if inet_pton(AF_INET, name, &ipv4) == 1 { return UInt32(bigEndian: ipv4.s_addr) >> 24 == 127 }
        var ipv6 = in6_addr()
        return inet_pton(AF_INET6, name, &ipv6) == 1 && withUnsafeBytes(of: &ipv6) { $0.elementsEqual([UInt8](repeating: 0, count: 15) + [1]) }
    }

    /// The URL without credentials: safe to print.
    public var description: String { baseURL + "/" + namespace }

    /// The full repository name of something below the namespace.
    public func repository(_ name: String) -> String { namespace + "/" + name }

    /// The part of a full repository name below the namespace, or nil when it lies elsewhere.
    public func relative(_ repository: String) -> String? {
        repository.hasPrefix(namespace + "/") ? String(repository.dropFirst(namespace.count + 1)) : nil
    }

    // MARK: - Grammar

    /// Every component follows the OCI repository path component grammar (the same as task names),
    /// checked by `Reference`, which `quiver serve` uses for the same names.
    static func validateNamespace(_ namespace: String, url: String) throws {
        if let component = Reference.invalidNamespaceComponent(namespace) {
            throw QuiverError(
                .invalidName,
                "invalid remote URL '\(url)': namespace component '\(component)' must be lower-case letters and digits separated by '.', '_' or '-'")
        }
    }

    /// The text with any `user:password@` removed, for messages.
    static func withoutCredentials(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else { return text }
        let rest = text[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return text }
        return String(text[..<schemeEnd.upperBound]) + String(rest[rest.index(after: at)...])
    }
}
