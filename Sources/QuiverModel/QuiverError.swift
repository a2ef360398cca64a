/// An error the user can act on: a kind for programs and one line of text for people, naming the
/// file, field, name or digest at fault.
public struct QuiverError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// A file or folder given by the user is missing, unreadable or malformed.
        case invalidInput
        /// A name, version or reference does not follow the grammar.
        case invalidName
        /// The thing asked for is not in the registry.
        case notFound
        /// The request contradicts what the registry holds (different content under an existing version…).
        case conflict
        /// An adapter does not fit the base model.
        case incompatible
        /// Stored data failed its digest or could not be decoded.
        case corrupt
        /// The operating system refused (disk full, permissions…).
        case io
        /// A feature the input asks for that Quiver does not implement.
        case unsupported
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
