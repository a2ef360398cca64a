import Foundation
import Hummingbird
import QuiverModel
import QuiverStore
import QuiverTensor

/// The JSON API over the registry's catalog: `GET /api/adapters` (the objects of `quiver list
/// --json`, filtered, all or a page), `GET /api/adapters/TASK[/VERSION]` (`quiver show --json`),
/// `GET /api/bases`.
struct CatalogController<Context: RequestContext>: Sendable {
    let registry: Registry
    /// The largest `n` of `GET /api/adapters`.
    let largestPage: Int

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("adapters", use: list)
        routes.get("adapters/:task", use: show)
        routes.get("adapters/:task/:version", use: show)
        routes.get("bases", use: bases)
        return routes
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let query = request.uri.queryParameters.map { (key: String($0.key), value: String($0.value)) }
        let filter = try AdapterFilter(query: query, largestPage: largestPage)
        return try await answer { registry in
            let (rows, more) = try filter.page(of: registry.list())
            var headers: HTTPFields = [:]
            if more, let last = rows.last { headers[.link] = "<\(Self.link(query, after: last))>; rel=\"next\"" }
            return JSONResponse.make(.array(rows.map(\.json)), headers: headers)
        }
    }

    /// The request's path and query, `last` set to `entry`.
    private static func link(_ query: [(key: String, value: String)], after entry: ArtifactSummary) -> String {
        let parameters = query.filter { $0.key != "last" } + [("last", "\(entry.task):\(entry.version)")]
        return "/api/adapters?" + parameters.map { "\(QueryText.escape($0))=\(QueryText.escape($1))" }.joined(separator: "&")
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> Response {
        let task = try context.parameters.require("task")
        let version = context.parameters.get("version")
        return try await answer { registry in try JSONResponse.make(registry.show(Reference(task: task, version: version))) }
    }

    @Sendable func bases(_ request: Request, context: Context) async throws -> Response {
        try await answer { registry in try JSONResponse.make(registry.baseModels().map(BaseModelSummary.init)) }
    }

    /// Runs a catalog query off the cooperative threads, registry errors as API errors.
    private func answer(_ body: @escaping @Sendable (Registry) throws -> Response) async throws -> Response {
        let registry = registry
        do {
            return try await BlockingWork.run(.io) { try body(registry) }
        } catch let error as QuiverError {
            throw APIError(error)
        }
    }
}
