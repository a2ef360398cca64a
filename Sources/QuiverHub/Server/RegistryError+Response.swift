import Hummingbird

// MARK: - The spec's error body

extension RegistryError: HTTPResponseError {
    private struct Body: Encodable {
        struct Entry: Encodable {
            var code: String
            var message: String
            var detail: [String: String]?
        }
        var errors: [Entry]
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.distributionAPIVersion] = "registry/2.0"
        let bytes = try JSONResponse.encoder.encode(Body(errors: [.init(code: code.rawValue, message: message, detail: detail)]))
        if request.method == .head {
            fields[.contentLength] = String(bytes.count)
            return Response(status: status, headers: fields, body: .init())
        }
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
