import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import QuiverModel
import QuiverStore

/// A manifest as received: its exact bytes and their digest.
public struct RemoteManifest: Sendable, Equatable {
    public var bytes: [UInt8]
    public var digest: Digest
    /// The `Content-Type` the remote gave.
    public var mediaType: String?
}

extension DistributionClient {
    /// The media types Quiver asks for: its artifacts are OCI image manifests.
    static let manifestAccept = MediaType.imageManifest

    /// `GET /v2/<repository>/manifests/<reference>` (a tag or a digest), or nil when the remote has no
    /// such manifest. Refuses manifests over `options.manifestLimit` and checks the bytes against
    /// the digest asked for, or the one the remote announces.
    public func manifest(of repository: String, reference: String) async throws -> RemoteManifest? {
        let what = "\(repository):\(reference)"
        let response = try await send(Request(
            method: .GET, url: url("/v2/\(repository)/manifests/\(reference)"),
            headers: ["Accept": Self.manifestAccept], scope: .pull(repository)))
        if response.status == .notFound {
            await Self.drain(response)
            return nil
        }
        guard response.status == .ok else { throw await failure(response, "send manifest \(what)") }
        if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > options.manifestLimit {
            throw QuiverError(.invalidInput, "manifest \(what) on \(location) is \(length) bytes, over the \(options.manifestLimit)-byte limit")
        }
        let bytes: [UInt8]
        do {
            bytes = Array(try await response.body.collect(upTo: options.manifestLimit).readableBytesView)
        } catch is NIOTooManyBytesError {
            throw QuiverError(.invalidInput, "manifest \(what) on \(location) is over the \(options.manifestLimit)-byte limit")
        } catch {
            throw QuiverError(.io, "manifest \(what) from \(location) was cut off: \(describe(error))")
        }
        let digest = Digest.of(bytes)
        if let expected = try? Digest(parsing: reference), expected != digest {
            throw QuiverError(.corrupt, "manifest \(what) from \(location) is damaged: its bytes hash to \(digest)")
        }
        if let announced = response.headers.first(name: DistributionHeader.contentDigest), let expected = try? Digest(parsing: announced), expected != digest {
            throw QuiverError(.corrupt, "manifest \(what) from \(location) is damaged: its bytes hash to \(digest), the remote says \(expected)")
        }
        let mediaType = response.headers.first(name: "Content-Type")
        if let mediaType, !mediaType.hasPrefix(MediaType.imageManifest), !mediaType.hasPrefix("application/json") {
            throw QuiverError(.unsupported, "\(what) on \(location) is a \(mediaType), not a Quiver artifact (an OCI image manifest)")
        }
        return RemoteManifest(bytes: bytes, digest: digest, mediaType: mediaType)
    }

    /// `HEAD /v2/<repository>/manifests/<reference>`: the digest a tag points at, or nil.
    public func manifestDigest(of repository: String, reference: String) async throws -> Digest? {
        let response = try await send(Request(
            method: .HEAD, url: url("/v2/\(repository)/manifests/\(reference)"),
            headers: ["Accept": Self.manifestAccept], scope: .pull(repository)))
        guard response.status == .ok || response.status == .notFound else {
            throw await failure(response, "look up manifest \(repository):\(reference)")
        }
        await Self.drain(response)
        if response.status == .notFound { return nil }
        guard let announced = response.headers.first(name: DistributionHeader.contentDigest) else { return nil }
        return try? Digest(parsing: announced)
    }

    /// `PUT /v2/<repository>/manifests/<reference>` (a tag): publishes a manifest whose blobs are
    /// already in the repository.
    ///
    /// A `MANIFEST_BLOB_UNKNOWN` right after the blobs were confirmed is retried a few times: with
    /// several clients pushing the same blobs, a registry on a plain file system (CNCF distribution)
    /// briefly shows a blob link while another client rewrites it.
    public func putManifest(_ bytes: [UInt8], digest: Digest, in repository: String, reference: String) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: MediaType.imageManifest)
        let request = Request(
            method: .PUT, url: url("/v2/\(repository)/manifests/\(reference)"), headers: headers,
            body: ByteBuffer(bytes: bytes), scope: .push(repository))
        var attempt = 0
        while true {
            attempt += 1
            let response = try await send(request)
            if response.status == .badRequest, attempt <= Self.serverErrorRetries {
                let body = (try? await response.body.collect(upTo: 64 << 10)).map { Array($0.readableBytesView) } ?? []
                if DistributionErrorBody.parse(body)?.errors.contains(where: { $0.code == "MANIFEST_BLOB_UNKNOWN" }) == true {
                    try await Task.sleep(for: Self.retryPause * (1 << (attempt - 1)))
                    continue
                }
                throw failure(status: response.status, body: body, "store manifest \(repository):\(reference)")
            }
            guard response.status == .created || response.status == .ok else {
                throw await failure(response, "store manifest \(repository):\(reference)")
            }
            await Self.drain(response)
            if let announced = response.headers.first(name: DistributionHeader.contentDigest), let stored = try? Digest(parsing: announced), stored != digest {
                throw QuiverError(.corrupt, "\(location) stored manifest \(repository):\(reference) as \(stored), not \(digest)")
            }
            return
        }
    }
}
