import Foundation
import Hummingbird
import QuiverStore

/// Who may do what: with a token, writes need it (as `Authorization: Bearer TOKEN`, or Basic auth
/// with any user name and the token as password); reads need it too when anonymous reads are off.
///
/// Tokens are compared in constant time and never logged or echoed except by the token endpoint,
/// to a client that presented it.
struct AccessControl: Sendable {
    enum Access: Sendable {
        case read, write
    }

    let token: String?
    let anonymousRead: Bool
    /// The service name in challenges (the namespace).
    let service: String

    /// Whether the request may have `access`.
    func allows(_ request: Request, _ access: Access) -> Bool {
        guard let token else { return true }
        if access == .read, anonymousRead { return true }
        guard let presented = Self.presentedToken(request) else { return false }
        return Self.constantTimeEquals(presented, token)
    }

    /// Whether the request carries the server's token (for the token endpoint).
    func isAuthenticated(_ request: Request) -> Bool {
        guard let token, let presented = Self.presentedToken(request) else { return false }
        return Self.constantTimeEquals(presented, token)
    }

    /// The `WWW-Authenticate` challenge of the distribution spec, pointing at the token endpoint.
    func bearerChallenge(_ request: Request, scope: String? = nil) -> String {
        var challenge = "Bearer realm=\"\(Self.origin(of: request))/v2/token\",service=\"\(service)\""
        if let scope { challenge += ",scope=\"\(scope)\"" }
        return challenge
    }

    /// A Basic challenge, so that a browser asks for the token (as the password) on the web page.
    var basicChallenge: String { "Basic realm=\"\(service)\", charset=\"UTF-8\"" }

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
