import Hummingbird

// MARK: - The JSON error body

extension APIError: HTTPResponseError {
    private struct Body: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
        }
        var error: Detail
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        try JSONResponse.make(Body(error: .init(code: code, message: message)), status: status, headers: headers)
    }
}
