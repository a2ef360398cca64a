import Foundation
import Hummingbird
import QuiverModel
import QuiverStore

/// `POST /v1/infer`: an adapter, a fusion or several tasks on texts; the answer is the JSON of
/// `quiver infer --json` (`{"task", "results"}`, or `{"tasks": [...]}` for `"tasks"`).
struct InferenceController<Context: RequestContext>: Sendable {
    let engine: InferenceEngine
    let access: AccessControl
    let limits: ServerLimits

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("infer", use: infer)
        return routes
    }

    @Sendable func infer(_ request: Request, context: Context) async throws -> Response {
        guard access.allows(request, .read) else {
            throw APIError(status: .unauthorized, code: "unauthorized", message: "send Authorization: Bearer <token>", headers: [.wwwAuthenticate: access.bearerChallenge(request)])
        }
        let bytes = try await RequestBodyReader.collect(request, limit: limits.inferenceBodyBytes) { limit in
            APIError.tooLarge("request body is larger than the limit of \(limit) bytes")
        }
        let body = try InferenceRequest(json: bytes, limits: limits)
        let references = try body.references()
        do {
            let results = try await engine.predict(references, texts: body.texts, pairs: body.textPairs, maxLength: body.maxLength)
            if body.tasks != nil { return try JSONResponse.make(["tasks": results]) }
            return try JSONResponse.make(results[0])
        } catch let error as QuiverError {
            throw APIError(error)
        }
    }
}
