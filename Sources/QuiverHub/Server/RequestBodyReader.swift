import Hummingbird

/// Reading a whole request body with a size limit, refusing early on a `Content-Length` above it.
enum RequestBodyReader {
    /// The body's bytes, or `tooLarge(limit)` once more than `limit` bytes are announced or arrive.
    static func collect(_ request: Request, limit: Int, tooLarge: (Int) -> any Error) async throws -> [UInt8] {
        if let announced = declaredLength(request), announced > limit { throw tooLarge(limit) }
        var bytes: [UInt8] = []
        for try await buffer in request.body {
            guard bytes.count + buffer.readableBytes <= limit else { throw tooLarge(limit) }
            bytes.append(contentsOf: buffer.readableBytesView)
        }
        return bytes
    }

    /// The `Content-Length` header, when present and well formed.
    static func declaredLength(_ request: Request) -> Int? {
        request.headers[.contentLength].flatMap { Int($0) }
    }
}
