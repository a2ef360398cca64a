import Foundation
import Hummingbird
import HummingbirdTesting
import QuiverStore
import QuiverModel
import Testing

@testable import QuiverHub

/// Reading through the OCI distribution endpoint: version check, catalog, tags, manifests, blobs.
@Suite struct ServerDistributionTests {
    @Test func versionCheckAnswersTheSpecHeader() async throws {
        let workspace = try ServerWorkspace.filled()
        try await workspace.app().test(.router) { client in
            for uri in ["/v2/", "/v2"] {
                let response = try await client.send(.get, uri)
                #expect(response.status == .ok)
                #expect(response.header("Docker-Distribution-API-Version") == "registry/2.0")
                #expect(response.text == "{}")
            }
        }
    }

    @Test func catalogListsTasksAndBasesWithPagination() async throws {
        let workspace = try ServerWorkspace.filled()
        try await workspace.app().test(.router) { client in
            let all = try await client.send(.get, "/v2/_catalog")
            #expect(all.status == .ok)
            let expected = ["quiver/base/tiny-bert", "quiver/entailment", "quiver/review", "quiver/sentiment", "quiver/topic"]
            #expect(try all.object["repositories"] as? [String] == expected)
            #expect(all.header("Link") == nil)

            let first = try await client.send(.get, "/v2/_catalog?n=2")
            #expect(try first.object["repositories"] as? [String] == Array(expected[0..<2]))
            let link = try #require(first.header("Link"))
            #expect(link == "</v2/_catalog?n=2&last=quiver%2Fentailment>; rel=\"next\"")
            let second = try await client.send(.get, "/v2/_catalog?n=2&last=quiver%2Fentailment")
            #expect(try second.object["repositories"] as? [String] == Array(expected[2..<4]))
            let third = try await client.send(.get, "/v2/_catalog?n=2&last=quiver/sentiment")
            #expect(try third.object["repositories"] as? [String] == ["quiver/topic"])
            #expect(third.header("Link") == nil)

            let bad = try await client.send(.get, "/v2/_catalog?n=-1")
            #expect(bad.status == .badRequest)
            #expect(bad.ociErrorCode == "PAGINATION_NUMBER_INVALID")
        }
    }

    @Test func tagsAreVersionsAndLatest() async throws {
        let workspace = try ServerWorkspace.filled()
        try workspace.registry.push(Reference(parsing: "sentiment:2"), folder: workspace.samples + "/language-id", force: true)
        try await workspace.app().test(.router) { client in
            let sentiment = try await client.send(.get, "/v2/quiver/sentiment/tags/list")
            #expect(try sentiment.object["name"] as? String == "quiver/sentiment")
            #expect(try sentiment.object["tags"] as? [String] == ["1", "2", "latest"])
            let page = try await client.send(.get, "/v2/quiver/sentiment/tags/list?n=1&last=1")
            #expect(try page.object["tags"] as? [String] == ["2"])
            #expect(page.header("Link") == "</v2/quiver/sentiment/tags/list?n=1&last=2>; rel=\"next\"")
            let base = try await client.send(.get, "/v2/quiver/base/tiny-bert/tags/list")
            #expect(try base.object["tags"] as? [String] == ["latest"])
            let unknown = try await client.send(.get, "/v2/quiver/nothing/tags/list")
            #expect(unknown.status == .notFound)
            #expect(unknown.ociErrorCode == "NAME_UNKNOWN")
        }
    }

    @Test func manifestsByTagAndDigest() async throws {
        let workspace = try ServerWorkspace.filled()
        let review = try workspace.registry.outgoing(Reference(parsing: "review"))
        let base = review.dependencies[0]
        try await workspace.app().test(.router) { client in
            for reference in ["latest", "1", review.manifestDigest.description] {
                let response = try await client.send(.get, "/v2/quiver/review/manifests/\(reference)")
                #expect(response.status == .ok)
                #expect(response.bytes == review.manifest)
                #expect(response.header("Content-Type") == MediaType.imageManifest)
                #expect(response.header("Docker-Content-Digest") == review.manifestDigest.description)
                let head = try await client.send(.head, "/v2/quiver/review/manifests/\(reference)")
                #expect(head.status == .ok)
                #expect(head.body.readableBytes == 0)
                #expect(head.header("Content-Length") == String(review.manifest.count))
                #expect(head.header("Docker-Content-Digest") == review.manifestDigest.description)
            }
            let baseManifest = try await client.send(.get, "/v2/quiver/base/tiny-bert/manifests/latest")
            #expect(baseManifest.bytes == base.manifest)
            let byDigest = try await client.send(.get, "/v2/quiver/base/tiny-bert/manifests/\(base.manifestDigest)")
            #expect(byDigest.bytes == base.manifest)

            let unknownTag = try await client.send(.get, "/v2/quiver/review/manifests/9")
            #expect(unknownTag.status == .notFound)
            #expect(unknownTag.ociErrorCode == "MANIFEST_UNKNOWN")
            #expect(unknownTag.text.contains("versions: 1"))
            // A digest of another repository is not this repository's.
            let elsewhere = try await client.send(.get, "/v2/quiver/sentiment/manifests/\(review.manifestDigest)")
            #expect(elsewhere.ociErrorCode == "MANIFEST_UNKNOWN")
            let headUnknown = try await client.send(.head, "/v2/quiver/review/manifests/9")
            #expect(headUnknown.status == .notFound)
            #expect(headUnknown.body.readableBytes == 0)
        }
    }

    @Test func blobsWholeHeadAndRanges() async throws {
        let workspace = try ServerWorkspace.filled()
        let sentiment = try workspace.registry.outgoing(Reference(parsing: "sentiment"))
        let layer = try #require(sentiment.blobs.max { $0.size < $1.size })
        let stored = try workspace.registry.blobs.readStored(layer.digest)
        try #require(stored.count > 100)
        try await workspace.app().test(.router) { client in
            let uri = "/v2/quiver/sentiment/blobs/\(layer.digest)"
            let whole = try await client.send(.get, uri)
            #expect(whole.status == .ok)
            #expect(whole.bytes == stored)
            #expect(whole.header("Docker-Content-Digest") == layer.digest.description)
            #expect(whole.header("Accept-Ranges") == "bytes")
            let head = try await client.send(.head, uri)
            #expect(head.status == .ok)
            #expect(head.header("Content-Length") == String(stored.count))
            #expect(head.body.readableBytes == 0)

            let middle = try await client.send(.get, uri, headers: [.range: "bytes=10-19"])
            #expect(middle.status == .partialContent)
            #expect(middle.bytes == Array(stored[10...19]))
            #expect(middle.header("Content-Range") == "bytes 10-19/\(stored.count)")
            let tail = try await client.send(.get, uri, headers: [.range: "bytes=\(stored.count - 7)-"])
            #expect(tail.bytes == Array(stored.suffix(7)))
            let suffix = try await client.send(.get, uri, headers: [.range: "bytes=-5"])
            #expect(suffix.bytes == Array(stored.suffix(5)))
            let beyond = try await client.send(.get, uri, headers: [.range: "bytes=\(stored.count)-"])
            #expect(beyond.status == .rangeNotSatisfiable)
            #expect(beyond.header("Content-Range") == "bytes */\(stored.count)")
            let several = try await client.send(.get, uri, headers: [.range: "bytes=0-1,4-5"])
            #expect(several.status == .rangeNotSatisfiable)

            let unknown = try await client.send(.get, "/v2/quiver/sentiment/blobs/sha256:" + String(repeating: "0", count: 64))
            #expect(unknown.status == .notFound)
            #expect(unknown.ociErrorCode == "BLOB_UNKNOWN")
        }
    }

    @Test func damagedBlobIsNeverSentWhole() async throws {
        let workspace = try ServerWorkspace.filled()
        let sentiment = try workspace.registry.outgoing(Reference(parsing: "sentiment"))
        let layer = try #require(sentiment.blobs.max { $0.size < $1.size })
        let path = workspace.registry.blobs.path(of: layer.digest)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0x20
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let damaged = bytes
        try await workspace.app().test(.router) { client in
            // The body ends with an error instead of the last bytes.
            let response = try? await client.send(.get, "/v2/quiver/sentiment/blobs/\(layer.digest)")
            #expect(response == nil || response!.bytes != damaged)
        }
    }

    @Test func badNamesAndDigestsAreRefusedInTheSpecFormat() async throws {
        let workspace = try ServerWorkspace.filled()
        try await workspace.app().test(.router) { client in
            let cases: [(uri: String, status: HTTPResponse.Status, code: String)] = [
                ("/v2/quiver/Sentiment/tags/list", .badRequest, "NAME_INVALID"),
                ("/v2/quiver/../blobs/tags/list", .badRequest, "NAME_INVALID"),
                ("/v2/quiver/senti%2Fment/tags/list", .badRequest, "NAME_INVALID"),
                ("/v2/other/sentiment/tags/list", .notFound, "NAME_UNKNOWN"),
                ("/v2/quiver/a/b/tags/list", .notFound, "NAME_UNKNOWN"),
                ("/v2/quiver/sentiment/blobs/sha256:xyz", .badRequest, "DIGEST_INVALID"),
                ("/v2/quiver/sentiment/blobs/md5:" + String(repeating: "0", count: 32), .badRequest, "DIGEST_INVALID"),
                ("/v2/quiver/sentiment/manifests/sha256:ABC", .badRequest, "DIGEST_INVALID"),
                ("/v2/quiver/sentiment/manifests/-bad", .badRequest, "MANIFEST_INVALID"),
                ("/v2/quiver/sentiment/blobs/uploads/not-a-uuid", .notFound, "BLOB_UPLOAD_UNKNOWN"),
                ("/v2/quiver/sentiment/whatever", .notFound, "UNSUPPORTED"),
                ("/v2/quiver/" + String(repeating: "a", count: 300) + "/tags/list", .badRequest, "NAME_INVALID"),
            ]
            for (uri, status, code) in cases {
                let response = try await client.send(.get, uri)
                #expect(response.status == status, "\(uri): \(response.text)")
                #expect(response.ociErrorCode == code, "\(uri): \(response.text)")
                #expect(response.header("Content-Type")?.hasPrefix("application/json") == true)
            }
        }
    }
}
