import Foundation
import Hummingbird
import NIOCore

/// Reading request bodies within limits of size and time.
///
/// Time: the connection's idle timeout closes a client that sends nothing; `timed` ends one that
/// sends too slowly (a byte now and then) once the body has taken `ServerLimits.requestBodyTimeout`.
enum RequestBodyReader {
    /// The body's bytes, or `tooLarge(limit)` once more than `limit` bytes are announced or arrive.
    static func collect(
        _ request: Request, context: HubRequestContext, limit: Int, timeout: TimeInterval, tooLarge: (Int) -> any Error
    ) async throws -> [UInt8] {
        if let announced = declaredLength(request), announced > limit { throw tooLarge(limit) }
        var bytes: [UInt8] = []
        for try await buffer in timed(request, context: context, limit: timeout) {
            guard buffer.readableBytes <= limit - bytes.count else { throw tooLarge(limit) }
            bytes.append(contentsOf: buffer.readableBytesView)
        }
        return bytes
    }

    /// The `Content-Length` header, when present and well formed (a non-negative number).
    static func declaredLength(_ request: Request) -> Int? {
        request.headers[.contentLength].flatMap { Int($0) }.flatMap { $0 >= 0 ? $0 : nil }
    }

    /// The body's buffers, failing with `408 Request Timeout` when one arrives more than `limit`
    /// seconds after the request began to be read; the connection then reads nothing more (the
    /// answer is sent, and the connection closes instead of draining the rest of the body).
    static func timed(_ request: Request, context: HubRequestContext, limit: TimeInterval) -> TimedBody {
        TimedBody(body: request.body, channel: context.channel, deadline: .now + .milliseconds(Int64(limit * 1000)), limit: limit)
    }

    struct TimedBody: AsyncSequence {
        typealias Element = ByteBuffer

        let body: RequestBody
        let channel: any Channel
        let deadline: ContinuousClock.Instant
        let limit: TimeInterval

        struct AsyncIterator: AsyncIteratorProtocol {
            var base: RequestBody.AsyncIterator
            let body: TimedBody

            mutating func next() async throws -> ByteBuffer? {
                guard let buffer = try await base.next() else { return nil }
                guard ContinuousClock.now <= body.deadline else {
                    body.channel.close(mode: .input, promise: nil)
                    throw HTTPError(
                        .requestTimeout, headers: [.connection: "close"],
                        message: "the request body took more than \(Int(body.limit)) seconds to arrive")
                }
                return buffer
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: body.makeAsyncIterator(), body: self) }
    }
}
