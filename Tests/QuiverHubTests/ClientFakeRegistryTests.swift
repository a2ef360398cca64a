import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import QuiverStore
import QuiverModel
import Testing
@testable import QuiverHub

/// Behaviours that a well-behaved registry never shows, on a small server inside the test: a
/// connection dropped in the middle of a blob, a redirect to another host, an oversized manifest.
@Suite struct ClientFakeRegistryTests {
    /// A blob of 256 KiB and what the server saw.
    final class Server: Sendable {
        let blob: [UInt8] = (0..<(256 << 10)).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) }
        var digest: Digest { Digest.of(blob) }
        /// `path auth=<Authorization> range=<Range>` per request.
        let seen = Locked<[String]>([])
        /// How many times the next full download is cut after half the blob.
        let cuts = Locked(1)

        func application() -> some ApplicationProtocol {
            let router = Router()
            router.get("/v2/team/big/manifests/:reference") { _, _ -> Response in
                let bytes = ByteBuffer(repeating: UInt8(ascii: " "), count: (4 << 20) + 1)
                return Response(status: .ok, headers: [.contentType: MediaType.imageManifest], body: ResponseBody(byteBuffer: bytes))
            }
            router.get("/v2/team/x/blobs/:digest") { request, context -> Response in
                self.record(request, "registry")
                // Off to a "CDN" on another origin (localhost instead of 127.0.0.1).
                let port = request.head.authority?.split(separator: ":").last ?? ""
                return Response(status: .temporaryRedirect, headers: [.location: "http://localhost:\(port)/cdn/\(context.parameters.get("digest") ?? "")"])
            }
            router.get("/cdn/:digest") { request, _ -> Response in
                self.record(request, "cdn")
                let blob = self.blob
                if let range = request.headers[.range], let start = Int(range.dropFirst("bytes=".count).prefix { $0 != "-" }) {
                    return Response(
                        status: .partialContent,
                        headers: [.contentRange: "bytes \(start)-\(blob.count - 1)/\(blob.count)", .contentLength: String(blob.count - start)],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: blob[start...])))
                }
                let cut = self.cuts.withLock { count -> Bool in
                    defer { count -= 1 }
                    return count > 0
                }
                return Response(
                    status: .ok, headers: [.contentLength: String(blob.count)],
                    body: ResponseBody(contentLength: blob.count) { writer in
                        try await writer.write(ByteBuffer(bytes: blob[0..<(cut ? blob.count / 2 : blob.count)]))
                        if cut { throw CancellationError() }  // the connection drops mid-blob
                        try await writer.finish(nil)
                    })
            }
            // A server that stops sending: half of the blob, then nothing; a manifest never answered.
            router.get("/v2/team/slow/blobs/:digest") { request, _ -> Response in
                self.record(request, "slow")
                let blob = self.blob
                return Response(
                    status: .ok, headers: [.contentLength: String(blob.count)],
                    body: ResponseBody(contentLength: blob.count) { writer in
                        try await writer.write(ByteBuffer(bytes: blob[0..<(blob.count / 2)]))
                        try await Task.sleep(for: .seconds(20))
                    })
            }
            router.get("/v2/team/slow/manifests/:reference") { _, _ -> Response in
                try await Task.sleep(for: .seconds(20))
                return Response(status: .notFound)
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }

        func record(_ request: Request, _ name: String) {
            let line = "\(name) auth=\(request.headers[.authorization] ?? "-") range=\(request.headers[.range] ?? "-")"
            seen.withLock { $0.append(line) }
        }
    }

    @Test func droppedConnectionResumesWithARangeAndRedirectsDropCredentials() async throws {
        let server = Server()
        let workspace = try Workspace()
        let root = workspace.root
        try await server.application().test(.live) { testClient in
            let location = try RemoteLocation(parsing: "http://127.0.0.1:\(testClient.port!)/team")
            try await DistributionClient.with(location: location, credentials: RemoteCredentials(token: "secret-token")) { client in
                let download = BlobDownload(
                    client: client, repository: "team/x", digest: server.digest, size: server.blob.count,
                    partPath: root + "/blob.part", destination: root + "/blob",
                    progress: TransferProgress(digest: server.digest.description, label: "x", observer: nil))
                let outcome = try await download.run()
                #expect(outcome.transferred == server.blob.count)
                #expect(outcome.resumed == 0)
            }
        }
        #expect(try readFile(workspace.root + "/blob") == server.blob)
        #expect(!FileManager.default.fileExists(atPath: workspace.root + "/blob.part"))
        let seen = server.seen.withLock { $0 }
        #expect(seen.count == 4, "\(seen)")
        #expect(seen.prefix(2) == ["registry auth=Bearer secret-token range=-", "cdn auth=- range=-"])
        // Resumed from what arrived before the drop (at most half the blob), credentials again only to the registry.
        let resumedAt = Int(seen.last?.split(separator: "=").last?.dropLast() ?? "") ?? 0
        #expect(resumedAt > 0 && resumedAt <= server.blob.count / 2)
        #expect(seen.suffix(2) == ["registry auth=Bearer secret-token range=bytes=\(resumedAt)-", "cdn auth=- range=bytes=\(resumedAt)-"])
    }

    @Test func wrongBytesAreNeverKept() async throws {
        let server = Server()
        server.cuts.withLock { $0 = 0 }
        let workspace = try Workspace()
        let root = workspace.root
        try await server.application().test(.live) { testClient in
            let location = try RemoteLocation(parsing: "http://127.0.0.1:\(testClient.port!)/team")
            let wrong = Digest.of([1, 2, 3])
            let error = await #expect(throws: QuiverError.self) {
                try await DistributionClient.with(location: location, credentials: RemoteCredentials()) { client in
                    try await BlobDownload(
                        client: client, repository: "team/x", digest: wrong, size: server.blob.count,
                        partPath: root + "/blob.part", destination: root + "/blob",
                        progress: TransferProgress(digest: wrong.description, label: "x", observer: nil)
                    ).run()
                }
            }
            #expect(error?.kind == .corrupt)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.root).isEmpty)
    }

    @Test func oversizedManifestIsRefused() async throws {
        try await Server().application().test(.live) { testClient in
            let location = try RemoteLocation(parsing: "http://127.0.0.1:\(testClient.port!)/team")
            let error = await #expect(throws: QuiverError.self) {
                try await DistributionClient.with(location: location, credentials: RemoteCredentials()) { client in
                    try await client.manifest(of: "team/big", reference: "latest")
                }
            }
            #expect(error?.message.contains("over the 4194304-byte limit") == true, "\(error?.message ?? "")")
        }
    }

    /// A server that stops sending gives up after the read timeout, resumes once with a range, and
    /// then fails in one line that says so; nothing of the blob is kept but the bytes to resume from.
    @Test func aStalledServerTimesOutWithAClearMessage() async throws {
        let server = Server()
        let workspace = try Workspace()
        let root = workspace.root
        let options = TransferOptions(resumeAttempts: 1, connectTimeout: .seconds(2), readTimeout: .seconds(1))
        try await server.application().test(.live) { testClient in
            let location = try RemoteLocation(parsing: "http://127.0.0.1:\(testClient.port!)/team")
            try await DistributionClient.with(location: location, credentials: RemoteCredentials(), options: options) { client in
                let started = ContinuousClock.now
                let blobError = await #expect(throws: QuiverError.self) {
                    try await BlobDownload(
                        client: client, repository: "team/slow", digest: server.digest, size: server.blob.count,
                        partPath: root + "/blob.part", destination: root + "/blob",
                        progress: TransferProgress(digest: server.digest.description, label: "x", observer: nil)
                    ).run()
                }
                // "download of blob … was interrupted at byte 131072: no data…", or on a loaded machine,
                // where even the answer's head can take longer, "cannot reach … (GET …/blobs/…): no data…".
                #expect(blobError?.kind == .io)
                #expect(blobError?.message.contains(server.digest.description) == true, "\(blobError?.message ?? "")")
                #expect(blobError?.message.hasSuffix("no data for 1 s (the read timeout)") == true, "\(blobError?.message ?? "")")
                let manifestError = await #expect(throws: QuiverError.self) { try await client.manifest(of: "team/slow", reference: "latest") }
                #expect(manifestError?.message.contains("GET /v2/team/slow/manifests/latest): no data for 1 s") == true, "\(manifestError?.message ?? "")")
                #expect(ContinuousClock.now - started < .seconds(15), "the timeouts, not the server, ended the requests")
            }
        }
        let seen = server.seen.withLock { $0 }
        #expect(seen.count == 2 && seen.first == "slow auth=- range=-", "one attempt and one resume: \(seen)")
        #expect(!FileManager.default.fileExists(atPath: root + "/blob"))
    }

    /// A registry that does not take a blob in the body of its `POST` — opening a session as the spec
    /// asks (docker-registry) or refusing the request — gets the blob in a `PUT` instead, and the
    /// client stops sending bodies in its `POST`s.
    @Test(arguments: [HTTPResponse.Status.accepted, .methodNotAllowed])
    func blobsGoInAPutWhereAPostDoesNotTakeThem(_ answer: HTTPResponse.Status) async throws {
        let seen = Locked<[String]>([])
        let stored = Locked<[Int]>([])
        let router = Router()
        router.head("/v2/team/x/blobs/:digest") { _, _ in Response(status: .notFound) }
        router.post("/v2/team/x/blobs/uploads/") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let digest = request.uri.queryParameters["digest"].map(String.init)
            seen.withLock { $0.append("POST \(digest == nil ? "" : "digest ")\(body.readableBytes)") }
            if digest != nil, answer != .accepted { return Response(status: answer) }
            return Response(status: .accepted, headers: [.location: "/v2/team/x/blobs/uploads/session"])
        }
        router.put("/v2/team/x/blobs/uploads/session") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            seen.withLock { $0.append("PUT \(body.readableBytes)") }
            stored.withLock { $0.append(body.readableBytes) }
            return Response(status: .created)
        }
        let workspace = try Workspace()
        let blobs: [[UInt8]] = [Array(repeating: 7, count: 1000), Array(repeating: 9, count: 3000)]
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { testClient in
            let location = try RemoteLocation(parsing: "http://127.0.0.1:\(testClient.port!)/team")
            try await DistributionClient.with(location: location, credentials: RemoteCredentials()) { client in
                for (index, blob) in blobs.enumerated() {
                    let path = workspace.root + "/blob\(index)"
                    try Data(blob).write(to: URL(fileURLWithPath: path))
                    let descriptor = Descriptor(mediaType: "application/octet-stream", digest: Digest.of(blob), size: blob.count)
                    let outcome = try await BlobUpload(
                        client: client, repository: "team/x", descriptor: descriptor, path: path, mountSources: [],
                        progress: TransferProgress(digest: descriptor.digest.description, label: "x", observer: nil)
                    ).run()
                    #expect(outcome == .uploaded)
                }
            }
        }
        let refused = answer == .accepted ? [] : ["POST 0"]  // a refused POST is followed by a plain one
        #expect(seen.withLock { $0 } == ["POST digest 1000"] + refused + ["PUT 1000", "POST 0", "PUT 3000"])
        #expect(stored.withLock { $0 } == [1000, 3000])
    }

    /// A registry that turns the `POST` opening an upload away with `429` (`refusals` times, then takes the blob)
    /// asking for `retryAfter`; what the server saw, and the upload's error if it failed.
    private func upload(refusals: Int, retryAfter: String) async throws -> (seen: [String], error: String?) {
        let seen = Locked<[String]>([])
        let router = Router()
        router.head("/v2/team/x/blobs/:digest") { _, _ in Response(status: .notFound) }
        router.post("/v2/team/x/blobs/uploads/") { _, _ -> Response in
            let refused = seen.withLock { seen in
                defer { seen.append("POST") }
                return seen.count(where: { $0 == "POST" }) < refusals
            }
            if refused {
                return Response(status: .tooManyRequests, headers: [.retryAfter: retryAfter])
            }
            return Response(status: .accepted, headers: [.location: "/v2/team/x/blobs/uploads/session"])
        }
        router.put("/v2/team/x/blobs/uploads/session") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 20)
            seen.withLock { $0.append("PUT") }
            return Response(status: .created)
        }
        let workspace = try Workspace()
        let blob = [UInt8](repeating: 5, count: 2000)
        let path = workspace.root + "/blob"
        try Data(blob).write(to: URL(fileURLWithPath: path))
        let failure = Locked<String?>(nil)
        try await Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { testClient in
            let location = try RemoteLocation(parsing: "http://127.0.0.1:\(testClient.port!)/team")
            try await DistributionClient.with(location: location, credentials: RemoteCredentials()) { client in
                let descriptor = Descriptor(mediaType: "application/octet-stream", digest: Digest.of(blob), size: blob.count)
                do {
                    let outcome = try await BlobUpload(
                        client: client, repository: "team/x", descriptor: descriptor, path: path, mountSources: [],
                        progress: TransferProgress(digest: descriptor.digest.description, label: "x", observer: nil)
                    ).run()
                    #expect(outcome == .uploaded)
                } catch {
                    failure.withLock { $0 = "\(error)" }
                }
            }
        }
        return (seen.withLock { $0 }, failure.withLock { $0 })
    }

    /// A `429` turns a request away without acting on it, so even the `POST` that opens an upload is sent again,
    /// after the pause the server asks for.
    @Test func anUploadTurnedAwayWithTooManyRequestsIsOpenedAgainAfterThePause() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let (seen, error) = try await upload(refusals: 1, retryAfter: "1")
        #expect(error == nil)
        #expect(seen == ["POST", "POST", "PUT"])
        #expect(clock.now - start >= .seconds(1), "waited for Retry-After")
    }

    /// A server that asks for a long pause, or keeps refusing, gets its refusal reported, not endless waits.
    @Test func aLongRetryAfterOrRefusalsThatGoOnFailTheUpload() async throws {
        let long = try await upload(refusals: 10, retryAfter: "60")
        #expect(long.seen == ["POST"])
        #expect(long.error?.contains("429") == true, "\(long.error ?? "no error")")
        let persistent = try await upload(refusals: 10, retryAfter: "0")
        #expect(persistent.seen == ["POST", "POST", "POST", "POST"], "the first try and three more")
        #expect(persistent.error?.contains("429") == true, "\(persistent.error ?? "no error")")
    }
}
