import QuiverModel
import QuiverStore

/// A repository the server answers for: `NAMESPACE/TASK` holds an adapter's or fusion's versions
/// (tags), `NAMESPACE/base/NAME` a base model (tag `latest`).
///
/// Names are checked against the OCI repository grammar and Quiver's task grammar before anything
/// else looks at them; nothing outside those grammars reaches the registry.
struct RepositoryName: Sendable, Equatable, Hashable, CustomStringConvertible {
    enum Content: Sendable, Equatable, Hashable {
        /// Versions of an adapter or fusion.
        case task(String)
        /// A base model.
        case base(String)
    }

    let namespace: String
    let content: Content

    /// The longest repository name accepted (the common registry limit).
    static let maximumLength = 255

    init(namespace: String, content: Content) {
        self.namespace = namespace
        self.content = content
    }

    /// The full name, as clients write it in `/v2/<name>/…`.
    var description: String {
        switch content {
        case .task(let task): "\(namespace)/\(task)"
        case .base(let name): "\(namespace)/\(Registry.baseRepository(name))"
        }
    }

    /// Parses the path components of a repository name.
    ///
    /// - Throws: `NAME_INVALID` outside the OCI grammar, `NAME_UNKNOWN` outside the namespace or for
    ///   a shape the server does not hold (neither `TASK` nor `base/NAME` below it).
    init(components: some Collection<Substring>, namespace: String) throws(RegistryError) {
        let name = components.joined(separator: "/")
        guard !components.isEmpty, name.utf8.count <= Self.maximumLength,
              components.allSatisfy({ Reference.isPathComponent($0) })
        else {
            throw RegistryError(.nameInvalid, "invalid repository name '\(name.prefix(300))': use lower-case path components of letters and digits separated by '.', '_', '__' or '-'")
        }
        let namespaceParts = namespace.split(separator: "/")
        guard components.starts(with: namespaceParts) else {
            throw RegistryError(.nameUnknown, "repository '\(name)' is not served here: this server answers for namespace '\(namespace)'")
        }
        let rest = Array(components.dropFirst(namespaceParts.count))
        // A task or base model name is one OCI component (checked above) of at most 128 bytes.
        switch rest.count {
        case 1 where rest[0].utf8.count <= Reference.maximumTaskLength:
            content = .task(String(rest[0]))
        case 2 where rest[0] == "base" && rest[1].utf8.count <= Reference.maximumTaskLength:
            content = .base(String(rest[1]))
        default:
            throw RegistryError(.nameUnknown, "repository '\(name)' is not served here: repositories are '\(namespace)/TASK' and '\(namespace)/base/NAME'")
        }
        self.namespace = namespace
    }

    /// Whether a namespace is a valid OCI repository path (one or more components).
    static func validateNamespace(_ namespace: String) throws {
        guard Reference.invalidNamespaceComponent(namespace) == nil else {
            throw QuiverError(.invalidName, "invalid namespace '\(namespace)': use lower-case path components of letters and digits separated by '.', '_', '__' or '-'")
        }
    }
}
