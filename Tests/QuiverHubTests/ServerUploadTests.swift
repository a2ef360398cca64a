import Foundation
import Hummingbird
import HummingbirdTesting
import QuiverStore
import QuiverModel
import Testing

@testable import QuiverHub

/// Pushing through the OCI distribution endpoint: uploads (monolithic, chunked, mount), manifests,
/// and the refusals that leave the registry unchanged.
@Suite struct ServerUploadTests {
    @Test func mountAnswersCreatedForHeldBlobsAndStartsAnUploadOtherwise() async throws {
        let workspace = try ServerWorkspace.filled()
        let layer = try workspace.registry.outgoing(Reference(parsing: "sentiment")).blobs[1].digest
        try await workspace.app().test(.router) { client in
            let mounted = try await client.send(.post, "/v2/quiver/newtask/blobs/uploads/?mount=\(layer)&from=quiver/sentiment")
            #expect(mounted.status == .created)
            #expect(mounted.header("Location") == "/v2/quiver/newtask/blobs/\(layer)")
            #expect(mounted.header("Docker-Content-Digest") == layer.description)
            let unknown = "sha256:" + String(repeating: "1", count: 64)
            let started = try await client.send(.post, "/v2/quiver/newtask/blobs/uploads/?mount=\(unknown)&from=quiver/sentiment")
            #expect(started.status == .accepted)
            #expect(started.header("Location")?.hasPrefix("/v2/quiver/newtask/blobs/uploads/") == true)
            #expect(started.header("Docker-Upload-UUID") != nil)
        }
    }

    @Test func chunkedUploadChecksRangesAndReportsProgress() async throws {
        let workspace = try ServerWorkspace.empty()
        let bytes = (0..<1000).map { UInt8($0 % 251) }
        let digest = Digest.of(bytes)
        try await workspace.app().test(.router) { client in
            let start = try await client.send(.post, "/v2/quiver/task/blobs/uploads/")
            #expect(start.status == .accepted)
            #expect(start.header("Range") == "0-0")
            let location = try #require(start.header("Location"))
            let first = try await client.send(.patch, location, headers: [.contentRange: "0-399"], body: Array(bytes[0..<400]))
            #expect(first.status == .accepted)
            #expect(first.header("Range") == "0-399")
            // A chunk that does not start where the upload stands.
            let gap = try await client.send(.patch, location, headers: [.contentRange: "500-599"], body: Array(bytes[500..<600]))
            #expect(gap.status == .rangeNotSatisfiable)
            #expect(gap.ociErrorCode == "BLOB_UPLOAD_INVALID")
            #expect(gap.header("Range") == "0-399")
            let status = try await client.send(.get, location)
            #expect(status.status == .noContent)
            #expect(status.header("Range") == "0-399")
            // Without Content-Range a chunk is appended (streamed PATCH).
            let second = try await client.send(.patch, location, body: Array(bytes[400..<1000]))
            #expect(second.header("Range") == "0-999")
            let missingDigest = try await client.send(.put, location)
            #expect(missingDigest.ociErrorCode == "DIGEST_INVALID")
            let done = try await client.send(.put, location + "?digest=\(digest)")
            #expect(done.status == .created)
            let fetched = try await client.send(.get, "/v2/quiver/task/blobs/\(digest)")
            #expect(fetched.bytes == bytes)
            // The finished upload is gone.
            let after = try await client.send(.get, location)
            #expect(after.ociErrorCode == "BLOB_UPLOAD_UNKNOWN")
        }
    }

    @Test func wrongDigestIsRefusedAndNothingIsKept() async throws {
        let workspace = try ServerWorkspace.empty()
        let bytes = Array("some bytes".utf8)
        let wrong = Digest.of(Array("other bytes".utf8))
        try await workspace.app().test(.router) { client in
            let monolithic = try await client.send(.post, "/v2/quiver/task/blobs/uploads/?digest=\(wrong)", body: bytes)
            #expect(monolithic.status == .badRequest)
            #expect(monolithic.ociErrorCode == "DIGEST_INVALID")
            let start = try await client.send(.post, "/v2/quiver/task/blobs/uploads/")
            let location = try #require(start.header("Location"))
            let finish = try await client.send(.put, location + "?digest=\(wrong)", body: bytes)
            #expect(finish.ociErrorCode == "DIGEST_INVALID")
            let head = try await client.send(.head, "/v2/quiver/task/blobs/\(wrong)")
            #expect(head.status == .notFound)
        }
        #expect(try workspace.snapshot().stagedBlobs.isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.registry.home + "/uploads/sessions").isEmpty)
    }

    @Test func uploadsBeyondTheLimitsAreRefused() async throws {
        let workspace = try ServerWorkspace.empty()
        var limits = ServerLimits()
        limits.uploadBytes = 1000
        limits.uploadChunkBytes = 600
        limits.concurrentUploads = 2
        try await workspace.app(limits: limits).test(.router) { client in
            let big = [UInt8](repeating: 7, count: 800)
            let whole = try await client.send(.post, "/v2/quiver/task/blobs/uploads/?digest=\(Digest.of(big))", body: big)
            #expect(whole.status == .contentTooLarge)
            #expect(whole.ociErrorCode == "SIZE_INVALID")
            let start = try await client.send(.post, "/v2/quiver/task/blobs/uploads/")
            let location = try #require(start.header("Location"))
            _ = try await client.send(.patch, location, body: [UInt8](repeating: 1, count: 600))
            let past = try await client.send(.patch, location, body: [UInt8](repeating: 1, count: 500))
            #expect(past.status == .contentTooLarge)
            _ = try await client.send(.post, "/v2/quiver/task/blobs/uploads/")
            let third = try await client.send(.post, "/v2/quiver/task/blobs/uploads/")
            #expect(third.status == .tooManyRequests)
            #expect(third.ociErrorCode == "TOOMANYREQUESTS")

            let manifest = [UInt8](repeating: 0x20, count: (4 << 20) + 1)
            let oversize = try await client.send(.put, "/v2/quiver/task/manifests/1", headers: [.contentType: MediaType.imageManifest], body: manifest)
            #expect(oversize.status == .contentTooLarge)
            #expect(oversize.ociErrorCode == "SIZE_INVALID")
        }
    }

    @Test func manifestsWithMissingPartsAreRefusedAndNothingEnters() async throws {
        let source = try ServerWorkspace.filled()
        let server = try ServerWorkspace.empty()
        let sentiment = try source.registry.outgoing(Reference(parsing: "sentiment"))
        let before = try server.snapshot()
        try await server.app().test(.router) { client in
            let put = { (repository: String, tag: String, bytes: [UInt8]) in
                try await client.send(.put, "/v2/quiver/\(repository)/manifests/\(tag)", headers: [.contentType: MediaType.imageManifest], body: bytes)
            }
            // Nothing uploaded: the config is unknown.
            let noConfig = try await put("sentiment", "1", sentiment.manifest)
            #expect(noConfig.ociErrorCode == "MANIFEST_BLOB_UNKNOWN")
            #expect(noConfig.status == .badRequest)
            // A config blob announced over the 4 MiB limit is refused before it is looked for.
            var huge = try Manifest.decode(sentiment.manifest, source: "test")
            huge.config.size = (4 << 20) + 1
            let hugeConfig = try await put("sentiment", "1", huge.encoded())
            #expect(hugeConfig.ociErrorCode == "MANIFEST_INVALID")
            #expect(hugeConfig.text.contains("more than 4194304"), "\(hugeConfig.text)")
            // Blobs uploaded, but the base model is not on the server.
            let transfer = ServerTransferClient(client: client)
            for blob in sentiment.blobs {
                try await transfer.upload(try source.registry.blobs.readStored(blob.digest), digest: blob.digest, to: "quiver/sentiment")
            }
            let noBase = try await put("sentiment", "1", sentiment.manifest)
            #expect(noBase.ociErrorCode == "MANIFEST_BLOB_UNKNOWN")
            #expect(noBase.text.contains("base model tiny-bert"))
            let detail = try #require((try noBase.object["errors"] as? [[String: Any]])?.first?["detail"] as? [String: String])
            #expect(detail["repository"] == "quiver/base/tiny-bert")
            // Not JSON, not an OCI manifest, not a Quiver artifact, not for this repository.
            #expect(try await put("sentiment", "1", Array("not json".utf8)).ociErrorCode == "MANIFEST_INVALID")
            #expect(try await put("sentiment", "1", Array(#"{"schemaVersion": 1}"#.utf8)).ociErrorCode == "MANIFEST_INVALID")
            #expect(try await put("base/sentiment", "latest", sentiment.manifest).ociErrorCode == "MANIFEST_INVALID")
            let wrongType = try await client.send(.put, "/v2/quiver/sentiment/manifests/1", headers: [.contentType: "application/vnd.docker.distribution.manifest.v2+json"], body: sentiment.manifest)
            #expect(wrongType.ociErrorCode == "MANIFEST_INVALID")
            // A digest reference must be the manifest's digest.
            #expect(try await put("sentiment", Digest.of(Array("x".utf8)).description, sentiment.manifest).ociErrorCode == "DIGEST_INVALID")
        }
        var after = try server.snapshot()
        after.stagedBlobs = []
        #expect(after == before)
    }

    @Test func deleteRemovesAVersionButNotOneAFusionUses() async throws {
        let workspace = try ServerWorkspace.filled()
        try await workspace.app().test(.router) { client in
            let used = try await client.send(.delete, "/v2/quiver/sentiment/manifests/1")
            #expect(used.status == .conflict)
            let latest = try await client.send(.delete, "/v2/quiver/review/manifests/latest")
            #expect(latest.ociErrorCode == "UNSUPPORTED")
            let removed = try await client.send(.delete, "/v2/quiver/review/manifests/1")
            #expect(removed.status == .accepted)
            #expect(try workspace.registry.list().map(\.task).contains("review") == false)
            let blob = try await client.send(.delete, "/v2/quiver/sentiment/blobs/sha256:" + String(repeating: "0", count: 64))
            #expect(blob.status == .methodNotAllowed)
        }
    }

    @Test func expiredUploadsAndStagedBlobsAreDeleted() async throws {
        let workspace = try ServerWorkspace.empty()
        let store = try UploadStore(home: workspace.registry.home, limits: ServerLimits())
        let name = RepositoryName(namespace: "quiver", content: .task("task"))
        let session = try store.start(repository: name)
        let bytes = Array("finished".utf8)
        let finished = try store.start(repository: name)
        try finished.beginWrite(at: 0)
        try finished.append(ByteBuffer(bytes: bytes), limit: 100)
        finished.endWrite()
        try store.finish(finished, digest: Digest.of(bytes))
        #expect(store.stagedSize(Digest.of(bytes)) == bytes.count)
        store.expire(now: Date())
        #expect(store.sessionCount == 1)
        store.expire(now: Date().addingTimeInterval(7200))
        #expect(store.sessionCount == 0)
        #expect(store.stagedSize(Digest.of(bytes)) == nil)
        #expect(!FileManager.default.fileExists(atPath: session.path))
    }
}
