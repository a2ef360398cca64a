import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An HTTP/1.1 client on a plain TCP socket, for what ordinary clients will not do: send any `Host`
/// header, connect from another loopback address (127.0.0.2), trickle a body a few bytes at a time,
/// or hang up while waiting for an answer. Blocking calls: use it from a detached task or a thread.
final class RawHTTPConnection: @unchecked Sendable {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private var descriptor: Int32

    /// Connects to `127.0.0.1:port` from `source` (any 127.x.y.z address; the kernel picks the port).
    init(port: Int, source: String = "127.0.0.1", timeout: TimeInterval = 60) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        inet_pton(AF_INET, source, &local.sin_addr)
        var remote = sockaddr_in()
        remote.sin_family = sa_family_t(AF_INET)
        remote.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr)
        var wait = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let connected = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, connected == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw Failure(description: "cannot connect from \(source) to port \(port): \(message)")
        }
    }

    deinit { close() }

    /// Runs `body` with a new connection on a thread of its own: blocking calls must not hold one of
    /// the few cooperative threads the server under test needs too.
    static func with<T: Sendable>(
        port: Int, source: String = "127.0.0.1", timeout: TimeInterval = 60, _ body: @escaping @Sendable (RawHTTPConnection) throws -> T
    ) async throws -> T {
        try await onThread {
            let connection = try RawHTTPConnection(port: port, source: source, timeout: timeout)
            defer { connection.close() }
            return try body(connection)
        }
    }

    /// Runs blocking work on a new thread.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    /// Sends a request head (with `Host: host`, and the headers given) and, optionally, a whole body.
    func sendHead(_ method: String, _ path: String, host: String = "localhost", headers: [String: String] = [:], body: [UInt8]? = nil) throws {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\n"
        var fields = headers
        if let body, fields["Content-Length"] == nil { fields["Content-Length"] = String(body.count) }
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        try send(Array(head.utf8) + (body ?? []))
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
            offset += sent
        }
    }

    /// Reads one response (with a `Content-Length` body, or none).
    func response() throws -> Response {
        var received: [UInt8] = []
        let separator = Array("\r\n\r\n".utf8)
        while received.firstRange(of: separator) == nil { try receive(into: &received) }
        let end = received.firstRange(of: separator)!
        let lines = String(decoding: received[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else {
            throw Failure(description: "not an HTTP response: \(lines.first ?? "")")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(received[end.upperBound...])
        let length = Int(headers["content-length"] ?? "0") ?? 0
        while body.count < length { try receive(into: &body) }
        return Response(status: status, headers: headers, body: Array(body.prefix(length)))
    }

    /// A response if one has arrived (without waiting), else nil.
    func responseIfReady() throws -> Response? {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 0) > 0 else { return nil }
        return try response()
    }

    /// Whether the server closed the connection (a read returns end of file) within the socket's timeout.
    func isClosedByServer() -> Bool {
        var byte: UInt8 = 0
        while true {
            let count = recv(descriptor, &byte, 1, 0)
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
        }
    }

    private func receive(into buffer: inout [UInt8]) throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, $0.count, 0) }
        guard count > 0 else { throw Failure(description: count == 0 ? "connection closed" : "recv: \(String(cString: strerror(errno)))") }
        buffer += chunk[0..<count]
    }
}
