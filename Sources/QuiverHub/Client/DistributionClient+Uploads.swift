import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import QuiverModel
import QuiverStore

extension DistributionClient {
    /// The answer to `POST …/blobs/uploads/`: the blob was mounted from another repository, stored
    /// from the request's body, or an upload session was opened at `location`.
    enum UploadStart: Equatable {
        case mounted
        case stored
        /// `minimumChunk` is the remote's `OCI-Chunk-Min-Length`, when it gives one.
        case session(location: String, minimumChunk: Int?)
    }

    /// `POST /v2/<repository>/blobs/uploads/`, with `?mount=<digest>&from=<source>` when a mount is
    /// worth trying, or with `?digest=<digest>` and the whole blob as its body (`whole`). A remote
    /// that cannot mount, or does not take blobs in a `POST`, answers with an upload session instead.
    func startUpload(
        into repository: String, mounting digest: Digest? = nil, from source: String? = nil, whole: (bytes: ByteBuffer, digest: Digest)? = nil
    ) async throws -> UploadStart {
        var path = "/v2/\(repository)/blobs/uploads/"
        var scope = AccessScope.push(repository)
        var headers = HTTPHeaders()
        if let digest, let source {
            path += "?mount=\(digest)&from=\(source)"
            scope = .mount(into: repository, from: source)
        } else if let whole {
            path += "?digest=\(whole.digest)"
            headers.add(name: "Content-Type", value: "application/octet-stream")
        }
        let response = try await send(Request(method: .POST, url: url(path), headers: headers, body: whole?.bytes, scope: scope))
        if response.status == .created, digest != nil || whole != nil {
            await Self.drain(response)
            return digest != nil ? .mounted : .stored
        }
        if whole != nil, Self.refusalsOfBlobsInPost.contains(response.status.code) {
            await Self.drain(response)
            takesBlobsInPost.withLock { $0 = false }
            return try await startUpload(into: repository)
        }
        guard response.status == .accepted, let location = response.headers.first(name: "Location") else {
            throw await failure(response, "start an upload into \(repository)")
        }
        await Self.drain(response)
        if whole != nil { takesBlobsInPost.withLock { $0 = false } }
        let minimum = response.headers.first(name: DistributionHeader.chunkMinLength).flatMap(Int.init)
        return .session(location: Self.resolve(location, against: url(path)), minimumChunk: minimum)
    }

    /// How registries that do not take a blob in the body of a `POST` may refuse one (rather than
    /// open a session as the spec asks).
    private static let refusalsOfBlobsInPost: Set<UInt> = [400, 404, 405, 411, 415, 501]

    /// The whole blob in one `PUT <session>?digest=<digest>`.
    func finishUpload(at session: String, digest: Digest, bytes: ByteBuffer?, repository: String) async throws {
        var headers = HTTPHeaders()
        if bytes != nil { headers.add(name: "Content-Type", value: "application/octet-stream") }
        let response = try await send(Request(
            method: .PUT, url: Self.appending("digest=\(digest)", to: session), headers: headers, body: bytes, scope: .push(repository)))
        guard response.status == .created else {
            throw await failure(response, "complete the upload of blob \(digest) into \(repository)")
        }
        await Self.drain(response)
    }

    /// One chunk: `PATCH <session>` with `Content-Range: <start>-<end>`. Returns the next session URL.
    func uploadChunk(_ bytes: ByteBuffer, at session: String, offset: Int, repository: String) async throws -> String {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/octet-stream")
        headers.add(name: "Content-Range", value: "\(offset)-\(offset + bytes.readableBytes - 1)")
        let response = try await send(Request(method: .PATCH, url: session, headers: headers, body: bytes, scope: .push(repository)))
        guard response.status == .accepted || response.status == .noContent else {
            throw await failure(response, "take bytes \(offset)… of an upload into \(repository)")
        }
        await Self.drain(response)
        guard let next = response.headers.first(name: "Location") else { return session }
        return Self.resolve(next, against: session)
    }

    /// A URL with one more query parameter.
    static func appending(_ parameter: String, to url: String) -> String {
        url + (url.contains("?") ? "&" : "?") + parameter
    }
}
