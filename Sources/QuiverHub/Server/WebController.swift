import Foundation
import Hummingbird
import QuiverModel
import QuiverStore

/// `GET /[?page=N&q=WORDS]`: the web page listing the registry, a page of versions at a time.
struct WebController<Context: RequestContext>: Sendable {
    let registry: Registry
    let namespace: String

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("/", use: page)
        return routes
    }

    @Sendable func page(_ request: Request, context: Context) async throws -> Response {
        let (registry, namespace, origin) = (registry, namespace, AccessControl.origin(of: request))
        let query = try WebPage.Query(parameters: request.uri.queryParameters.map { (String($0.key), String($0.value)) })
        let html: String
        do {
            html = try await BlockingWork.run(.io) {
                WebPage(namespace: namespace, origin: origin, artifacts: try registry.list(), bases: try registry.baseModels(), query: query)
                    .render()
            }
        } catch let error as QuiverError {
            throw APIError(error)
        }
        return Response(status: .ok, headers: [
            .contentType: "text/html; charset=utf-8", .contentSecurityPolicy: WebPage.contentSecurityPolicy,
            .xContentTypeOptions: "nosniff", .cacheControl: "no-store",
        ], body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
