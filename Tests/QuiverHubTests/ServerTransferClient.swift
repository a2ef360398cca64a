import Foundation
import Hummingbird
import HummingbirdTesting
import QuiverStore
import Testing

/// A minimal OCI client over raw requests, following `TransferTests`: pushes an artifact and its
/// dependencies through the distribution endpoints, or pulls one into another registry.
struct ServerTransferClient {
    let client: any TestClientProtocol
    var namespace = "quiver"
    var headers: HTTPFields = [:]
    /// Upload blobs in chunks of this many bytes (PATCH), or whole (POST ?digest=) when nil.
    var chunkSize: Int?

    // MARK: - Push

    /// Pushes `artifact` after its dependencies; returns the digests of the blobs it uploaded.
    @discardableResult
    func push(_ artifact: OutgoingArtifact, from source: Registry) async throws -> [Digest] {
        var uploaded: [Digest] = []
        for dependency in artifact.dependencies { uploaded += try await push(dependency, from: source) }
        let repository = "\(namespace)/\(artifact.repository)"
        for blob in artifact.blobs {
            let head = try await client.send(.head, "/v2/\(repository)/blobs/\(blob.digest)", headers: headers)
            if head.status == .ok { continue }
            #expect(head.status == .notFound)
            try await upload(try source.blobs.readStored(blob.digest), digest: blob.digest, to: repository)
            uploaded.append(blob.digest)
        }
        for tag in artifact.tags {
            var fields = headers
            fields[.contentType] = MediaType.imageManifest
            let response = try await client.send(.put, "/v2/\(repository)/manifests/\(tag)", headers: fields, body: artifact.manifest)
            #expect(response.status == .created, "PUT \(repository):\(tag): \(response.text)")
            #expect(response.header("Docker-Content-Digest") == artifact.manifestDigest.description)
        }
        return uploaded
    }

    /// Uploads one blob, whole or in chunks.
    func upload(_ bytes: [UInt8], digest: Digest, to repository: String) async throws {
        guard let chunkSize else {
            let response = try await client.send(.post, "/v2/\(repository)/blobs/uploads/?digest=\(digest)", headers: headers, body: bytes)
            #expect(response.status == .created, "\(response.text)")
            return
        }
        let start = try await client.send(.post, "/v2/\(repository)/blobs/uploads/", headers: headers)
        #expect(start.status == .accepted, "\(start.text)")
        var location = try #require(start.header("Location"))
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + chunkSize, bytes.count)
            var fields = headers
            fields[.contentRange] = "\(offset)-\(end - 1)"
            let response = try await client.send(.patch, location, headers: fields, body: Array(bytes[offset..<end]))
            #expect(response.status == .accepted, "\(response.text)")
            #expect(response.header("Range") == "0-\(end - 1)")
            location = try #require(response.header("Location"))
            offset = end
        }
        let finish = try await client.send(.put, location + "?digest=\(digest)", headers: headers)
        #expect(finish.status == .created, "\(finish.text)")
        #expect(finish.header("Docker-Content-Digest") == digest.description)
    }

    // MARK: - Pull

    /// Pulls `repository:reference` (below the namespace) into `destination`, dependencies first,
    /// downloading only the blobs it lacks; returns the digests downloaded.
    @discardableResult
    func pull(_ repository: String, _ reference: String, into destination: Registry, scratch: String) async throws -> [Digest] {
        let name = "\(namespace)/\(repository)"
        let manifestResponse = try await client.send(.get, "/v2/\(name)/manifests/\(reference)", headers: headers)
        #expect(manifestResponse.status == .ok, "\(manifestResponse.text)")
        let manifestBytes = manifestResponse.bytes
        #expect(manifestResponse.header("Docker-Content-Digest") == Digest.of(manifestBytes).description)
        let manifest = try Manifest.decode(manifestBytes, source: name)
        let config = try await blob(manifest.config.digest, of: name)
        var downloaded: [Digest] = []
        for requirement in try destination.missingRequirements(ofManifest: manifestBytes, config: config) {
            switch requirement {
            case .base(let base, _, let digest):
                downloaded += try await pull(Registry.baseRepository(base), digest.description, into: destination, scratch: scratch)
            case .member(let task, _, let digest):
                downloaded += try await pull(task, digest.description, into: destination, scratch: scratch)
            }
        }
        var paths: [Digest: String] = [:]
        for layer in try destination.missingBlobs(ofManifest: manifestBytes) {
            let path = scratch + "/" + layer.digest.hex
            try Data(try await blob(layer.digest, of: name)).write(to: URL(fileURLWithPath: path))
            paths[layer.digest] = path
            downloaded.append(layer.digest)
        }
        let isBase = repository.hasPrefix("base/")
        try destination.importArtifact(
            manifest: manifestBytes, config: config, task: isBase ? nil : repository, version: reference.hasPrefix("sha256:") ? nil : reference
        ) { layer in try #require(paths[layer.digest]) }
        return downloaded
    }

    /// A blob's bytes, checked against its digest.
    func blob(_ digest: Digest, of name: String) async throws -> [UInt8] {
        let response = try await client.send(.get, "/v2/\(name)/blobs/\(digest)", headers: headers)
        #expect(response.status == .ok)
        #expect(Digest.of(response.bytes) == digest)
        return response.bytes
    }
}
