import QuiverModel

/// What the store knows of one blob: the digest and size of the stored bytes (its address, the OCI
/// rule) and of the uncompressed content (its identity, so identical content is stored once).
public struct BlobDescriptor: Sendable, Equatable, Codable {
    public var digest: Digest
    public var size: Int
    public var contentDigest: Digest
    public var contentSize: Int
    public var encoding: BlobEncoding

    public init(digest: Digest, size: Int, contentDigest: Digest, contentSize: Int, encoding: BlobEncoding) {
        self.digest = digest
        self.size = size
        self.contentDigest = contentDigest
        self.contentSize = contentSize
        self.encoding = encoding
    }
}
