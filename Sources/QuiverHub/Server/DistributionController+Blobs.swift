import Foundation
import Hummingbird
import QuiverModel
import QuiverStore

extension DistributionController {
    /// `GET`/`HEAD /v2/<name>/blobs/<digest>`: a blob of the store (or an upload no manifest has
    /// taken yet), whole or one `Range`.
    func blob(_ digest: Digest, request: Request, head: Bool) async throws -> Response {
        let (registry, uploads) = (registry, uploads)
        let body = try await BlockingWork.run(.io) { () -> BlobFileBody? in
            let path = registry.blobs.contains(digest) ? registry.blobs.path(of: digest) : uploads.stagedFile(digest)
            return path.flatMap { BlobFileBody(path: $0, digest: digest) }
        }
        guard let body else {
            throw RegistryError(.blobUnknown, "blob \(digest) is unknown to this server", detail: ["digest": digest.description])
        }
        let range = try body.range(from: request.headers[.range])
        return body.response(range: range, mediaType: "application/octet-stream", head: head)
    }

    // MARK: - Uploads

    /// `POST /v2/<name>/blobs/uploads/`: mounts a blob the server holds (`?mount=&from=`), takes a
    /// whole blob at once (`?digest=` with the body), or starts an upload session.
    func startUpload(_ name: RepositoryName, request: Request, context: Context) async throws -> Response {
        let (registry, uploads) = (registry, uploads)
        if let mount = Self.query(request, "mount") {
            let digest = try DistributionRoute.digest(mount[...])
            if try await BlockingWork.run(.io, { registry.blobs.contains(digest) || uploads.stagedSize(digest) != nil }) {
                return blobCreated(name, digest)
            }
            // Not here: the spec's answer is a new upload session.
        }
        let session = try await BlockingWork.run(.io) { try uploads.start(repository: name, client: context.clientAddress) }
        if let digestText = Self.query(request, "digest") {
            do {
                let digest = try DistributionRoute.digest(digestText[...])
                _ = try await receive(request, context: context, into: session, range: nil)
                try await BlockingWork.run(.locking) { try uploads.finish(session, digest: digest) }
                return blobCreated(name, digest)
            } catch {
                uploads.cancel(session)
                throw error
            }
        }
        return uploadAccepted(name, session, status: .accepted)
    }

    /// `GET /v2/<name>/blobs/uploads/<id>`: how far an upload is.
    func uploadStatus(_ name: RepositoryName, _ id: UUID) throws -> Response {
        uploadAccepted(name, try uploads.session(id, repository: name), status: .noContent)
    }

    /// `PATCH /v2/<name>/blobs/uploads/<id>`: appends a chunk (`Content-Range: START-END` optional,
    /// START must be where the upload stands).
    func patchUpload(_ name: RepositoryName, _ id: UUID, request: Request, context: Context) async throws -> Response {
        let session = try uploads.session(id, repository: name)
        let range = try Self.contentRange(request)
        let received = try await receive(request, context: context, into: session, range: range)
        if let range, received != range.count {
            throw RegistryError(.blobUploadInvalid, "Content-Range announced \(range.count) bytes, the body had \(received)", headers: UploadSession.rangeHeaders(session.offset))
        }
        return uploadAccepted(name, session, status: .accepted)
    }

    /// `PUT /v2/<name>/blobs/uploads/<id>?digest=`: appends the last chunk (if any) and ends the
    /// upload; the content must hash to the digest.
    func finishUpload(_ name: RepositoryName, _ id: UUID, request: Request, context: Context) async throws -> Response {
        let session = try uploads.session(id, repository: name)
        guard let digestText = Self.query(request, "digest") else {
            throw RegistryError(.digestInvalid, "finishing an upload needs ?digest=sha256:<hex>")
        }
        let digest = try DistributionRoute.digest(digestText[...])
        let range = try Self.contentRange(request)
        let received = try await receive(request, context: context, into: session, range: range)
        if let range, received != range.count {
            throw RegistryError(.blobUploadInvalid, "Content-Range announced \(range.count) bytes, the body had \(received)")
        }
        let uploads = uploads
        try await BlockingWork.run(.locking) { try uploads.finish(session, digest: digest) }
        return blobCreated(name, digest)
    }

    /// `DELETE /v2/<name>/blobs/uploads/<id>`: abandons an upload.
    func cancelUpload(_ name: RepositoryName, _ id: UUID) throws -> Response {
        uploads.cancel(try uploads.session(id, repository: name))
        return Response(status: .noContent)
    }

    // MARK: - Pieces

    /// Streams a request body into an upload, within the chunk, blob and time limits; returns its length.
    ///
    /// Every number of the request is compared with a limit before any arithmetic: a `Content-Range`
    /// start or a `Content-Length` near `Int.max` is refused, never added.
    private func receive(_ request: Request, context: Context, into session: UploadSession, range: ClosedRange<Int>?) async throws -> Int {
        let tooLarge = RegistryError(.sizeInvalid, "a chunk is limited to \(limits.uploadChunkBytes) bytes and a blob to \(limits.uploadBytes)", status: .contentTooLarge)
        let first = range?.lowerBound ?? session.offset
        guard first <= limits.uploadBytes else { throw tooLarge }
        if let declared = RequestBodyReader.declaredLength(request) {
            guard declared <= limits.uploadChunkBytes, declared <= limits.uploadBytes - first else { throw tooLarge }
            if let range, declared != range.count {
                throw RegistryError(
                    .blobUploadInvalid, "Content-Range announces \(range.count) bytes, Content-Length \(declared)",
                    headers: UploadSession.rangeHeaders(session.offset))
            }
        }
        try session.beginWrite(at: range?.lowerBound)
        defer { session.endWrite() }
        let limit = limits.uploadBytes
        var received = 0
        for try await buffer in RequestBodyReader.timed(request, context: context, limit: limits.requestBodyTimeout) {
            guard buffer.readableBytes <= limits.uploadChunkBytes - received else { throw tooLarge }
            received += buffer.readableBytes
            try await BlockingWork.run(.io) { try session.append(buffer, limit: limit) }
        }
        return received
    }

    /// `Content-Range: START-END` (also `bytes START-END/TOTAL`), inclusive.
    static func contentRange(_ request: Request) throws(RegistryError) -> ClosedRange<Int>? {
        try ByteRanges.contentRange(request.headers[.contentRange])
    }

    private func blobCreated(_ name: RepositoryName, _ digest: Digest) -> Response {
        Response(status: .created, headers: [
            .location: "/v2/\(name)/blobs/\(digest)", .dockerContentDigest: digest.description, .contentLength: "0",
        ])
    }

    private func uploadAccepted(_ name: RepositoryName, _ session: UploadSession, status: HTTPResponse.Status) -> Response {
        var headers = UploadSession.rangeHeaders(session.offset)
        headers[.location] = "/v2/\(name)/blobs/uploads/\(session.id.uuidString.lowercased())"
        headers[.dockerUploadUUID] = session.id.uuidString.lowercased()
        if status != .noContent { headers[.contentLength] = "0" }
        return Response(status: status, headers: headers)
    }
}
