import Foundation
import Hummingbird
import QuiverModel
import QuiverStore

/// The OCI distribution endpoint under `/v2/`: the subset of the spec that pushes and pulls use
/// (manifests, blobs, uploads with mount, tags, catalog), with the spec's error format.
///
/// Routes are `/v2` and `/v2/**`: repository names contain slashes, so `DistributionRoute` parses
/// the rest of the path and validates every part of it before the registry is asked anything.
struct DistributionController: Sendable {
    typealias Context = HubRequestContext

    let registry: Registry
    let uploads: UploadStore
    let imports: ImportCoalescer
    /// The server's token, which the token endpoint hands back to a client that presents it.
    let token: String?
    let namespace: String
    let limits: ServerLimits

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.get("/", use: versionCheck)
        routes.head("/", use: versionCheck)
        for method: HTTPRequest.Method in [.get, .head, .put, .post, .patch, .delete] {
            routes.on("**", method: method, use: respond)
        }
        return routes
    }

    /// `GET /v2/`: the spec's version check (and the first request of clients discovering auth).
    @Sendable func versionCheck(_ request: Request, context: Context) async throws -> Response {
        var response = try JSONResponse.make([String: String]())
        response.headers[.distributionAPIVersion] = "registry/2.0"
        return request.method == .head ? response.createHeadResponse() : response
    }

    @Sendable func respond(_ request: Request, context: Context) async throws -> Response {
        let components = context.parameters.getCatchAll()
        if components == ["token"], request.method == .get { return try tokenAnswer(request) }
        let route = try DistributionRoute(components: components, namespace: namespace)
        do {
            var response = try await respond(to: route, request: request, context: context)
            response.headers[.distributionAPIVersion] = "registry/2.0"
            return response
        } catch let error as QuiverError {
            throw RegistryError.from(error)
        }
    }

    private func respond(to route: DistributionRoute, request: Request, context: Context) async throws -> Response {
        switch (request.method, route) {
        case (.get, .catalog): return try await BlockingWork.run(.io) { try catalog(request) }
        case (.get, .tags(let name)): return try await BlockingWork.run(.io) { try tags(name, request: request) }
        case (.get, .manifest(let name, let reference)): return try await BlockingWork.run(.io) { try manifest(name, reference, head: false) }
        case (.head, .manifest(let name, let reference)): return try await BlockingWork.run(.io) { try manifest(name, reference, head: true) }
        case (.put, .manifest(let name, let reference)): return try await putManifest(name, reference, request: request, context: context)
        case (.delete, .manifest(let name, let reference)): return try await BlockingWork.run(.locking) { try deleteManifest(name, reference) }
        case (.get, .blob(_, let digest)): return try await blob(digest, request: request, head: false)
        case (.head, .blob(_, let digest)): return try await blob(digest, request: request, head: true)
        case (.delete, .blob):
            throw RegistryError(.unsupported, "blobs are deleted with the versions that use them (DELETE a manifest, then `quiver gc`)")
        case (.post, .uploads(let name)): return try await startUpload(name, request: request, context: context)
        case (.get, .upload(let name, let id)): return try uploadStatus(name, id)
        case (.patch, .upload(let name, let id)): return try await patchUpload(name, id, request: request, context: context)
        case (.put, .upload(let name, let id)): return try await finishUpload(name, id, request: request, context: context)
        case (.delete, .upload(let name, let id)): return try await BlockingWork.run(.io) { try cancelUpload(name, id) }
        default:
            throw RegistryError(.unsupported, "\(request.method) is not supported on \(request.uri.path)")
        }
    }

    // MARK: - Auth

    /// `GET /v2/token`: the token endpoint the challenge's realm points at. A client that presents
    /// the server token (Bearer, or as the Basic password) gets it back as a bearer token.
    private func tokenAnswer(_ request: Request) throws -> Response {
        guard let token else {
            return try JSONResponse.make(["token": "anonymous", "access_token": "anonymous"])
        }
        guard AccessControl.isAuthenticated(request, token: token) else {
            throw RegistryError(
                .unauthorized, "present the server token as the Basic auth password or a Bearer token",
                headers: [.wwwAuthenticate: AccessControl.basicChallenge(service: namespace)])
        }
        return try JSONResponse.make(TokenAnswer(token: token, accessToken: token, expiresIn: 86400))
    }

    // MARK: - Helpers

    /// The body of the token endpoint, in the form Docker's and OCI clients read.
    struct TokenAnswer: Encodable {
        var token: String
        var accessToken: String
        var expiresIn: Int

        enum CodingKeys: String, CodingKey {
            case token
            case accessToken = "access_token"
            case expiresIn = "expires_in"
        }
    }

    /// A query parameter (Hummingbird has percent-decoded it).
    static func query(_ request: Request, _ name: String) -> String? {
        request.uri.queryParameters[name[...]].map(String.init)
    }
}
