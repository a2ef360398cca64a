import Crypto

/// A content address: `sha256:` followed by 64 lower-case hex digits (the OCI digest form).
public struct Digest: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The 64 hex digits.
    public let hex: String

    public init(parsing text: String) throws {
        guard text.hasPrefix("sha256:") else {
            throw QuiverError(.invalidName, "invalid digest '\(text)': expected sha256:<64 hex digits>")
        }
        let hex = String(text.dropFirst("sha256:".count))
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw QuiverError(.invalidName, "invalid digest '\(text)': expected sha256:<64 lower-case hex digits>")
        }
        self.hex = hex
    }

    init(hash: SHA256.Digest) {
        hex = hash.map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
        }.joined()
    }

    public var description: String { "sha256:" + hex }

    /// The first 12 hex digits, for tables.
    public var short: String { String(hex.prefix(12)) }

    public static func < (lhs: Digest, rhs: Digest) -> Bool { lhs.hex < rhs.hex }

    public static func of(_ bytes: some Sequence<UInt8>) -> Digest {
        var hasher = DigestHasher()
        Array(bytes).withUnsafeBytes { hasher.update($0) }
        return hasher.finalize()
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = try Digest(parsing: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// Incremental SHA-256 that also counts the bytes it has seen.
public struct DigestHasher {
    private var hasher = SHA256()
    public private(set) var count = 0

    public init() {}

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        hasher.update(bufferPointer: bytes)
        count += bytes.count
    }

    public func finalize() -> Digest { Digest(hash: hasher.finalize()) }
}
