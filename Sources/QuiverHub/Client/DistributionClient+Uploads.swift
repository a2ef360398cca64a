import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import QuiverModel
import QuiverStore

extension DistributionClient {
    /// The answer to `POST …/blobs/uploads/`: the blob was mounted from another repository, or an
    /// upload session was opened at `location`.
    enum UploadStart: Equatable {
        case mounted
        /// `minimumChunk` is the remote's `OCI-Chunk-Min-Length`, when it gives one.
        case session(location: String, minimumChunk: Int?)
    }

    /// `POST /v2/<repository>/blobs/uploads/`, with `?mount=<digest>&from=<source>` when a mount is
    /// worth trying. A remote that cannot mount answers with an upload session instead.
    func startUpload(into repository: String, mounting digest: Digest? = nil, from source: String? = nil) async throws -> UploadStart {
        var path = "/v2/\(repository)/blobs/uploads/"
        var scope = AccessScope.push(repository)
        if let digest, let source {
            path += "?mount=\(digest)&from=\(source)"
            scope = .mount(into: repository, from: source)
        }
        let response = try await send(Request(method: .POST, url: url(path), scope: scope))
        if response.status == .created, digest != nil {
            await Self.drain(response)
            return .mounted
        }
        guard response.status == .accepted, let location = response.headers.first(name: "Location") else {
            throw await failure(response, "start an upload into \(repository)")
        }
        await Self.drain(response)
        let minimum = response.headers.first(name: DistributionHeader.chunkMinLength).flatMap(Int.init)
        return .session(location: Self.resolve(location, against: url(path)), minimumChunk: minimum)
    }

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
