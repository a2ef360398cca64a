import Foundation
import Hummingbird
import HummingbirdTesting
import QuiverStore
import QuiverModel
import Testing

/// A minimal OCI pusher over raw requests through the router (no socket), for tests that set the
/// headers of every request themselves. Transfers as users run them go through Quiver's own client
/// (`ServeClientTests`).
struct ServerTransferClient {
    let client: any TestClientProtocol
    var namespace = "quiver"
    var headers: HTTPFields = [:]

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

    /// Uploads one blob whole (`POST …?digest=`).
    func upload(_ bytes: [UInt8], digest: Digest, to repository: String) async throws {
        let response = try await client.send(.post, "/v2/\(repository)/blobs/uploads/?digest=\(digest)", headers: headers, body: bytes)
        #expect(response.status == .created, "\(response.text)")
    }
}
