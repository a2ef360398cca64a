import Foundation
import Hummingbird
import QuiverModel
import QuiverStore

extension DistributionController {
    /// `GET /v2/<name>/tags/list`: the versions of a task and `latest`; `latest` for a base model.
    func tags(_ name: RepositoryName, request: Request) throws -> Response {
        var tags: [String]
        switch name.content {
        case .task(let task):
            let versions = try registry.versions(of: task)
            guard !versions.isEmpty else { throw RegistryError(.nameUnknown, "repository \(name) is unknown: no adapter or fusion '\(task)' here") }
            tags = versions.map(\.version)
            if try registry.artifact(Reference(task: task)) != nil { tags.append(Reference.latest) }
        case .base(let baseName):
            guard try registry.baseModel(named: baseName) != nil else {
                throw RegistryError(.nameUnknown, "repository \(name) is unknown: no base model '\(baseName)' here")
            }
            tags = [Reference.latest]
        }
        let page = try Page(tags.sorted(), request: request, limits: limits)
        return try JSONResponse.make(TagList(name: name.description, tags: page.items), headers: page.linkHeaders(path: "/v2/\(name)/tags/list"))
    }

    /// `GET /v2/_catalog`: every repository: `NAMESPACE/TASK` and `NAMESPACE/base/NAME`.
    func catalog(_ request: Request) throws -> Response {
        let tasks = Set(try registry.artifacts().map(\.task)).map { RepositoryName(namespace: namespace, content: .task($0)) }
        let bases = try registry.baseModels().map { RepositoryName(namespace: namespace, content: .base($0.name)) }
        let page = try Page((tasks + bases).map(\.description).sorted(), request: request, limits: limits)
        return try JSONResponse.make(["repositories": page.items], headers: page.linkHeaders(path: "/v2/_catalog"))
    }
}

/// The body of `tags/list`.
struct TagList: Encodable {
    var name: String
    var tags: [String]
}

/// One page of a sorted list, by the spec's `n` (page size) and `last` (the entry before the page).
struct Page {
    var items: [String]
    var size: Int
    /// Whether entries follow the page (then a `Link` header points at the next page).
    var hasMore: Bool

    init(_ sorted: [String], request: Request, limits: ServerLimits) throws(RegistryError) {
        var size = limits.pageSize
        if let text = request.uri.queryParameters["n"] {
            guard let n = Int(text), n >= 0 else {
                throw RegistryError(.paginationNumberInvalid, "invalid page size n=\(text.prefix(20)): expected a number from 0")
            }
            size = min(n, limits.pageSize)
        }
        var rest = sorted[...]
        if let last = request.uri.queryParameters["last"] {
            rest = rest.drop { $0 <= String(last) }
        }
        items = Array(rest.prefix(size))
        self.size = size
        hasMore = rest.count > items.count && !items.isEmpty
    }

    /// `Link: </v2/…?n=N&last=LAST>; rel="next"` when more entries follow.
    func linkHeaders(path: String) -> HTTPFields {
        guard hasMore, let last = items.last else { return [:] }
        return [.link: "<\(path)?n=\(size)&last=\(QueryText.escape(last))>; rel=\"next\""]
    }
}
