import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import QuiverModel
import QuiverStore

extension DistributionClient {
    /// `HEAD /v2/<repository>/blobs/<digest>` (following redirects): whether the repository holds it.
    public func blobExists(_ digest: Digest, in repository: String) async throws -> Bool {
        let response = try await send(Request(
            method: .HEAD, url: url("/v2/\(repository)/blobs/\(digest)"), scope: .pull(repository), followsRedirects: true))
        switch response.status {
        case .ok, .notFound:
            await Self.drain(response)
            return response.status == .ok
        default:
            throw await failure(response, "look up blob \(digest) in \(repository)")
        }
    }

    /// A small blob (a config) read into memory, verified against its descriptor.
    public func blob(_ descriptor: Descriptor, in repository: String, limit: Int) async throws -> [UInt8] {
        guard descriptor.size <= limit else {
            throw QuiverError(.invalidInput, "blob \(descriptor.digest) in \(repository) is \(descriptor.size) bytes, over the \(limit)-byte limit")
        }
        let response = try await send(Request(
            method: .GET, url: url("/v2/\(repository)/blobs/\(descriptor.digest)"), scope: .pull(repository), followsRedirects: true))
        guard response.status == .ok else { throw await failure(response, "send blob \(descriptor.digest) of \(repository)") }
        let bytes: [UInt8]
        do {
            bytes = Array(try await response.body.collect(upTo: limit).readableBytesView)
        } catch is NIOTooManyBytesError {
            throw QuiverError(.corrupt, "blob \(descriptor.digest) from \(location)/\(repository) is longer than its \(descriptor.size) bytes")
        } catch {
            throw QuiverError(.io, "blob \(descriptor.digest) from \(location) was cut off: \(describe(error))")
        }
        let actual = Digest.of(bytes)
        guard actual == descriptor.digest, bytes.count == descriptor.size else {
            throw QuiverError(.corrupt, "blob \(descriptor.digest) from \(location) is damaged: its \(bytes.count) bytes hash to \(actual)")
        }
        return bytes
    }

    /// `GET` of a blob from `offset` on (a `Range` request when `offset > 0`). The caller streams the body.
    func openBlob(_ digest: Digest, in repository: String, from offset: Int) async throws -> HTTPClientResponse {
        var headers = HTTPHeaders()
        if offset > 0 { headers.add(name: "Range", value: "bytes=\(offset)-") }
        let response = try await send(Request(
            method: .GET, url: url("/v2/\(repository)/blobs/\(digest)"), headers: headers, scope: .pull(repository), followsRedirects: true))
        guard response.status == .ok || response.status == .partialContent else {
            throw await failure(response, "send blob \(digest) of \(repository)")
        }
        return response
    }
}
