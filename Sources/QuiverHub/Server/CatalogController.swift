import Foundation
import Hummingbird
import QuiverModel
import QuiverStore

/// The JSON API over the registry's catalog: `GET /api/adapters` (the objects of `quiver list
/// --json`, filtered), `GET /api/adapters/TASK[/VERSION]` (`quiver show --json`), `GET /api/bases`.
struct CatalogController<Context: RequestContext>: Sendable {
    let registry: Registry

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("adapters", use: list)
        routes.get("adapters/:task", use: show)
        routes.get("adapters/:task/:version", use: show)
        routes.get("bases", use: bases)
        return routes
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let filter = try AdapterFilter(query: request.uri.queryParameters.map { (String($0.key), String($0.value)) })
        return try await answer { registry in try JSONResponse.make(registry.list().filter(filter.matches)) }
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
