import QuiverModel

/// How a blob's stored bytes encode its content.
public enum BlobEncoding: String, Codable, Sendable {
    /// Stored bytes are the content.
    case raw
    /// Stored bytes are a QuiverCodec byte-plane container of the content.
    case planes
}
