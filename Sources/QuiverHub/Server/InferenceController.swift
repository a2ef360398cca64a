import Foundation
import Hummingbird
import QuiverModel
import QuiverStore

/// `POST /v1/infer`: an adapter, a fusion or several tasks on texts; the answer is the JSON of
/// `quiver infer --json` (`{"task", "results"}`, or `{"tasks": [...]}` for `"tasks"`).
/// `POST /v1/embeddings`: a base model's sentence vectors, in the shape of OpenAI's embeddings API.
/// Both share encoder passes with the requests running at the same time (`PassBatcher`).
struct InferenceController: Sendable {
    typealias Context = HubRequestContext

    let engine: InferenceEngine
    let limits: ServerLimits

    var endpoints: RouteCollection<Context> {
        let routes = RouteCollection(context: Context.self)
        routes.post("infer", use: infer)
        routes.post("embeddings", use: embeddings)
        return routes
    }

    @Sendable func infer(_ request: Request, context: Context) async throws -> Response {
        let bytes = try await RequestBodyReader.collect(request, context: context, limit: limits.inferenceBodyBytes, timeout: limits.requestBodyTimeout) { limit in
            APIError.tooLarge("request body is larger than the limit of \(limit) bytes")
        }
        let body = try InferenceRequest(json: bytes, limits: limits)
        let references = try body.references()
        let engine = engine
        do {
            // A request still waiting for its turn when its client leaves is dropped from the queue.
            let results = try await context.cancellingWhenClientLeaves {
                try await engine.predict(references, texts: body.texts, pairs: body.textPairs, maxLength: body.maxLength)
            }
            if body.tasks != nil { return try JSONResponse.make(["tasks": results]) }
            return try JSONResponse.make(results[0])
        } catch let error as QuiverError {
            throw APIError(error)
        }
    }

    @Sendable func embeddings(_ request: Request, context: Context) async throws -> Response {
        let bytes = try await RequestBodyReader.collect(request, context: context, limit: limits.inferenceBodyBytes, timeout: limits.requestBodyTimeout) { limit in
            APIError.tooLarge("request body is larger than the limit of \(limit) bytes")
        }
        let body = try EmbeddingsRequest(json: bytes, limits: limits)
        let engine = engine
        do {
            let (vectors, tokens) = try await context.cancellingWhenClientLeaves {
                try await engine.embed(
                    base: body.model, texts: body.input, pooling: body.pooling, normalize: body.normalize, dimensions: body.dimensions)
            }
            return try JSONResponse.make(
                EmbeddingsResponse(vectors: vectors, format: body.encodingFormat, model: body.model, tokens: tokens))
        } catch let error as QuiverError {
            throw APIError(error)
        }
    }
}
