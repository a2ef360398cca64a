import Foundation
import Hummingbird
import QuiverStore

/// `GET /`: the web page listing the registry.
struct WebController<Context: RequestContext>: Sendable {
    let registry: Registry
    let access: AccessControl
    let namespace: String

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("/", use: page)
        return routes
    }

    @Sendable func page(_ request: Request, context: Context) async throws -> Response {
        guard access.allows(request, .read) else {
            // A browser asks for credentials on a Basic challenge: any user name, the token as password.
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: access.basicChallenge, .contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "authentication required: the server token is the password\n")))
        }
        let html: String
        do {
            html = WebPage(namespace: namespace, origin: AccessControl.origin(of: request), artifacts: try registry.list(), bases: try registry.baseModels()).render()
        } catch let error as QuiverError {
            throw APIError(error)
        }
        return Response(status: .ok, headers: [
            .contentType: "text/html; charset=utf-8", .contentSecurityPolicy: WebPage.contentSecurityPolicy,
            .xContentTypeOptions: "nosniff", .cacheControl: "no-store",
        ], body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
