import Foundation
import Hummingbird
import QuiverStore

/// The JSON API over the registry's catalog: `GET /api/adapters` (the objects of `quiver list
/// --json`, filtered), `GET /api/adapters/TASK[/VERSION]` (`quiver show --json`), `GET /api/bases`.
struct CatalogController<Context: RequestContext>: Sendable {
    let registry: Registry
    let access: AccessControl

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("adapters", use: list)
        routes.get("adapters/:task", use: show)
        routes.get("adapters/:task/:version", use: show)
        routes.get("bases", use: bases)
        return routes
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        try authorize(request)
        let filter = try AdapterFilter(query: request.uri.queryParameters.map { (String($0.key), String($0.value)) })
        return try answer { try JSONResponse.make(registry.list().filter(filter.matches)) }
    }

    @Sendable func show(_ request: Request, context: Context) async throws -> Response {
        try authorize(request)
        let task = try context.parameters.require("task")
        let version = context.parameters.get("version")
        return try answer { try JSONResponse.make(registry.show(Reference(task: task, version: version))) }
    }

    @Sendable func bases(_ request: Request, context: Context) async throws -> Response {
        try authorize(request)
        return try answer { try JSONResponse.make(registry.baseModels().map(BaseModelSummary.init)) }
    }

    private func authorize(_ request: Request) throws(APIError) {
        guard access.allows(request, .read) else {
            throw APIError(status: .unauthorized, code: "unauthorized", message: "send Authorization: Bearer <token>", headers: [.wwwAuthenticate: access.bearerChallenge(request)])
        }
    }

    /// Registry errors as API errors.
    private func answer(_ body: () throws -> Response) throws -> Response {
        do {
            return try body()
        } catch let error as QuiverError {
            throw APIError(error)
        }
    }
}
