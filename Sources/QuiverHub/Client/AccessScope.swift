/// What a request needs the right to do, in the token service's scope syntax. Tokens are cached per
/// scope, so a pull and a push of the same repository hold different tokens.
struct AccessScope: Hashable, Sendable {
    /// Space-separated scopes, e.g. `repository:quiver/sentiment:pull,push`.
    var text: String

    static func pull(_ repository: String) -> AccessScope { AccessScope(text: "repository:\(repository):pull") }

    static func push(_ repository: String) -> AccessScope { AccessScope(text: "repository:\(repository):pull,push") }

    /// Pushing into `repository` while mounting a blob from `source`.
    static func mount(into repository: String, from source: String) -> AccessScope {
        AccessScope(text: "repository:\(repository):pull,push repository:\(source):pull")
    }

    static let catalog = AccessScope(text: "registry:catalog:*")
}
