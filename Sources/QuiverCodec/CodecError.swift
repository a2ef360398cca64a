// MARK: - Errors

/// An error thrown by ``TensorCodec``: what went wrong (``kind``) and where (``message``).
///
/// Decoding never traps on malformed input; every inconsistency in a container surfaces as a `CodecError`
/// whose message names the field, chunk or plane at fault, for example
/// `truncated: chunk 3 plane 2: expected 262144 payload bytes, input ended after 1200`.
public struct CodecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The category of a ``CodecError``; match on it in code, show ``CodecError/message`` to people.
    public enum Kind: String, Sendable, Equatable {
        /// A caller passed an unusable parameter (element width, chunk size, thread count, length).
        case invalidArgument
        /// The input does not start with the container's magic bytes.
        case badMagic
        /// The container's format version is not one this build can read.
        case unsupportedVersion
        /// A header field is out of range (element width, chunk size, reserved bits, total length).
        case invalidHeader
        /// The input ended before the container did.
        case truncated
        /// A chunk's table disagrees with the header or with itself (raw length, plane mode, plane sizes).
        case invalidChunk
        /// A deflated plane is not valid deflate data, or inflates to fewer bytes than declared.
        case corruptPlane
        /// A deflated plane inflates beyond its declared size; decoding stopped at the declared size.
        case planeOverflow
        /// Bytes follow the last chunk.
        case trailingData
        /// The byte source yielded fewer or more bytes than the declared raw length.
        case sourceLengthMismatch
        /// zlib refused an operation that cannot fail on valid input (for example out of memory).
        case zlibFailure
    }

    /// What went wrong.
    public let kind: Kind
    /// Which field, chunk or plane is at fault, with the values found and expected.
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }
}
