import Foundation
import QuiverModel
import QuiverStore

#if canImport(Glibc)
    import Glibc
#endif

/// The host names a request's `Host` may carry: the addresses the server listens on, `localhost`
/// when it listens on loopback, and the hosts of `--public-url`. Anything else is a request meant
/// for another server — or a DNS-rebinding attack, in which a browser sends a page's requests for
/// `evil.example` to an address of this machine — and is answered `421 Misdirected Request`.
///
/// Only the host is compared, not the port: a rebinding browser keeps the port it was given, so
/// the port adds nothing, and a reverse proxy may forward another.
struct HostAllowList: Sendable {
    /// Lower-case host names and IP literals (IPv6 without brackets).
    let hosts: Set<String>

    init(hosts: Set<String>) { self.hosts = hosts }

    /// The hosts of a server listening on `listenHost`, reached also by `publicURLs`.
    init(listenHost: String, publicURLs: [String]) throws {
        var hosts = Set(try publicURLs.map(Self.host(ofPublicURL:)))
        let host = Self.normalized(listenHost)
        if Self.isWildcard(host) {
            hosts.formUnion(Self.interfaceAddresses())
            hosts.formUnion(Self.loopbackNames)
            var name = [CChar](repeating: 0, count: 256)
            if gethostname(&name, name.count) == 0 { hosts.insert(Self.normalized(String(cString: name))) }
        } else {
            hosts.insert(host)
            let addresses = Self.resolve(host)
            hosts.formUnion(addresses)
            if Self.isLoopback(host: host) { hosts.formUnion(Self.loopbackNames) }
        }
        self.hosts = hosts
    }

    /// Whether a request's authority (`HOST[:PORT]`, from its `Host` header) names this server. A
    /// request without one (HTTP/1.0) is accepted: browsers always send it.
    func allows(authority: String?) -> Bool {
        guard let authority else { return true }
        guard let host = Self.host(ofAuthority: authority) else { return false }
        return hosts.contains(host)
    }

    // MARK: - Parsing

    static let loopbackNames: Set<String> = ["localhost", "127.0.0.1", "::1"]

    /// The lower-case host of `HOST[:PORT]` or `[IPV6][:PORT]`, or nil when malformed.
    static func host(ofAuthority authority: String) -> String? {
        var text = Substring(authority)
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && rest.dropFirst().allSatisfy(\.isASCIIDigit)) else { return nil }
            text = text[text.index(after: text.startIndex)..<close]
        } else if text.filter({ $0 == ":" }).count > 1 {
            return nil  // an IPv6 address without brackets
        } else if let colon = text.lastIndex(of: ":") {
            guard text[text.index(after: colon)...].allSatisfy(\.isASCIIDigit) else { return nil }
            text = text[..<colon]
        }
        guard !text.isEmpty, text.utf8.count <= 255 else { return nil }
        return normalized(String(text))
    }

    /// The host of a `--public-url` (`http(s)://HOST[:PORT][/…]`).
    static func host(ofPublicURL url: String) throws -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw QuiverError(.invalidInput, "invalid public URL '\(url.prefix(200))': expected http(s)://HOST[:PORT]")
        }
        return normalized(host)
    }

    /// Lower case, without IPv6 brackets or a trailing dot.
    static func normalized(_ host: String) -> String {
        var host = host.lowercased()
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.hasSuffix("."), host.count > 1 { host.removeLast() }
        return host
    }

    // MARK: - Addresses

    static func isWildcard(_ host: String) -> Bool { host == "0.0.0.0" || host == "::" || host.isEmpty }

    /// Whether a server listening on `host` is reachable from other machines: all addresses, or one
    /// `host` resolves to that is not a loopback address. (A host that does not resolve reaches
    /// nobody: listening on it fails with its own error.)
    static func reachesOtherMachines(host: String) -> Bool {
        isWildcard(normalized(host)) || (!resolve(normalized(host)).isEmpty && !isLoopback(host: host))
    }

    /// Whether every address `host` stands for is a loopback address (127/8, ::1).
    static func isLoopback(host: String) -> Bool {
        let host = normalized(host)
        if isWildcard(host) { return false }
        if host == "localhost" { return true }
        let addresses = resolve(host)
        return !addresses.isEmpty && addresses.allSatisfy { $0 == "::1" || ($0.hasPrefix("127.") && isIPv4($0)) }
    }

    private static func isIPv4(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }

    /// The IP addresses a name or literal resolves to, as text.
    static func resolve(_ host: String) -> Set<String> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var addresses = Set<String>()
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            if let text = numericHost(current.pointee.ai_addr, length: current.pointee.ai_addrlen) { addresses.insert(text) }
            entry = current.pointee.ai_next
        }
        return addresses
    }

    /// The addresses of this machine's interfaces (for a server listening on all of them).
    static func interfaceAddresses() -> Set<String> {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(first) }
        var addresses = Set<String>()
        var entry: UnsafeMutablePointer<ifaddrs>? = first
        while let current = entry {
            if let address = current.pointee.ifa_addr {
                let family = Int32(address.pointee.sa_family)
                let length = family == AF_INET6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size
                if family == AF_INET || family == AF_INET6, let text = numericHost(address, length: socklen_t(length)) {
                    addresses.insert(text)
                }
            }
            entry = current.pointee.ifa_next
        }
        return addresses
    }

    private static func numericHost(_ address: UnsafePointer<sockaddr>?, length: socklen_t) -> String? {
        guard let address else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(address, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
        // Link-local IPv6 addresses carry a zone (`fe80::1%eth0`), which Host headers never do.
        return String(cString: buffer).split(separator: "%").first.map { String($0).lowercased() }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
