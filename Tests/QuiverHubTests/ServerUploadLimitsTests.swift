import Foundation
import Hummingbird
import HummingbirdTesting
import QuiverStore
import QuiverModel
import Testing

@testable import QuiverHub

/// What slow and greedy clients can hold of a server: uploads per client, staged bytes, idle and
/// slow connections, abandoned uploads (expired on a timer, also in the middle of a write).
@Suite struct ServerUploadLimitsTests {
    static let name = RepositoryName(namespace: "quiver", content: .task("task"))

    /// 64 slow `PATCH`es from one client (127.0.0.2) hold at most its share of upload sessions; another
    /// client (127.0.0.1) pushes a blob and reads as usual meanwhile.
    @Test func sixtyFourSlowPatchesDoNotLockOutOtherClients() async throws {
        let workspace = try ServerWorkspace.empty()
        var limits = ServerLimits()
        // The test client's connection waits while the slow ones start (minutes on a loaded machine): not idle-closed.
        limits.connectionIdleTimeout = 3600
        try await workspace.app(limits: limits).test(.live) { client in
            let port = try #require(client.port)
            let slow = SlowClients(port: port, count: 64)
            defer { slow.stop() }
            let refused = try await RawHTTPConnection.onThread { try slow.start() }
            #expect(refused == 64 - ServerLimits().uploadsPerClient, "uploads refused to the slow client")

            let bytes = (0..<100_000).map { UInt8($0 % 251) }
            let digest = Digest.of(bytes)
            let clock = ContinuousClock()
            let elapsed = try await clock.measure {
                let started = try await client.execute(uri: "/v2/quiver/task/blobs/uploads/", method: .post)
                #expect(started.status == .accepted, "\(started.status)")
                let location = try #require(started.headers[.location])
                let patched = try await client.execute(uri: location, method: .patch, body: ByteBuffer(bytes: bytes))
                #expect(patched.status == .accepted)
                let finished = try await client.execute(uri: location + "?digest=\(digest)", method: .put)
                #expect(finished.status == .created)
                let fetched = try await client.execute(uri: "/v2/quiver/task/blobs/\(digest)", method: .get)
                #expect(Array(fetched.body.readableBytesView) == bytes)
            }
            // Accepted (not 429) is what matters; the bound only catches a client kept waiting behind the slow ones.
            #expect(elapsed < .seconds(60), "the other client waited \(elapsed)")
            #expect(slow.stillSending > 0, "the slow uploads were still being written")
        }
    }

    @Test func uploadsPerClientAndInAllAreCapped() throws {
        let workspace = try ServerWorkspace.empty()
        var limits = ServerLimits()
        limits.uploadsPerClient = 2
        limits.concurrentUploads = 3
        let store = try UploadStore(home: workspace.registry.home, limits: limits)
        let first = try store.start(repository: Self.name, client: "10.0.0.1")
        _ = try store.start(repository: Self.name, client: "10.0.0.1")
        let perClient = #expect(throws: RegistryError.self) { try store.start(repository: Self.name, client: "10.0.0.1") }
        #expect(perClient?.code == .tooManyRequests && perClient?.headers[.retryAfter] != nil)
        _ = try store.start(repository: Self.name, client: "10.0.0.2")
        let inAll = #expect(throws: RegistryError.self) { try store.start(repository: Self.name, client: "10.0.0.3") }
        #expect(inAll?.code == .tooManyRequests)
        store.cancel(first)
        _ = try store.start(repository: Self.name, client: "10.0.0.1")
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.sessionsFolder).count == 3)
    }

    /// Uploads in progress and finished blobs waiting for manifests share one bound; bytes come back
    /// when an upload is cancelled or its blob is taken.
    @Test func stagedBytesAreCappedAndGivenBack() async throws {
        let workspace = try ServerWorkspace.empty()
        var limits = ServerLimits()
        limits.stagedBytes = 1000
        try await workspace.app(limits: limits).test(.router) { client in
            let first = try #require(try await client.send(.post, "/v2/quiver/task/blobs/uploads/").header("Location"))
            let filled = try await client.send(.patch, first, body: [UInt8](repeating: 1, count: 700))
            #expect(filled.status == .accepted)
            let second = try #require(try await client.send(.post, "/v2/quiver/task/blobs/uploads/").header("Location"))
            let over = try await client.send(.patch, second, body: [UInt8](repeating: 2, count: 400))
            #expect(over.status == .tooManyRequests && over.ociErrorCode == "TOOMANYREQUESTS", "\(over.status)")
            #expect(over.header("Retry-After") != nil)
            let cancelled = try await client.send(.delete, first)
            #expect(cancelled.status == .noContent)
            let second2 = try #require(try await client.send(.post, "/v2/quiver/task/blobs/uploads/").header("Location"))
            let fits = try await client.send(.patch, second2, body: [UInt8](repeating: 2, count: 900))
            #expect(fits.status == .accepted, "\(fits.status) \(fits.text)")
            let blob = [UInt8](repeating: 2, count: 900)
            let done = try await client.send(.put, second2 + "?digest=\(Digest.of(blob))")
            #expect(done.status == .created)
            // The finished blob still counts until a manifest takes it or it expires.
            let third = try #require(try await client.send(.post, "/v2/quiver/task/blobs/uploads/").header("Location"))
            let refused = try await client.send(.patch, third, body: [UInt8](repeating: 3, count: 200))
            #expect(refused.status == .tooManyRequests)
        }
    }

    /// Abandoned uploads go away on the server's timer, without another client starting one.
    @Test func abandonedUploadsExpireOnATimer() async throws {
        let workspace = try ServerWorkspace.empty()
        var limits = ServerLimits()
        limits.uploadIdleTimeout = 1
        // Long enough for the first HEAD to find the finished upload (a whole-second mtime can make a 1 s lifetime
        // end almost at once).
        limits.uploadLifetime = 4
        limits.expiryInterval = 0.1
        let bytes = Array("finished".utf8)
        let staged = workspace.registry.home + "/uploads/blobs/"
        try FileManager.default.createDirectory(atPath: staged, withIntermediateDirectories: true)
        try await workspace.app(limits: limits).test(.router) { client in
            // A finished upload no manifest took, staged once the server runs: a sanitized server starting beside
            // 21 other tests took over 4 s, and a blob staged before it could expire before the first HEAD.
            try Data(bytes).write(to: URL(fileURLWithPath: staged + Digest.of(bytes).hex))
            let kept = try await client.send(.head, "/v2/quiver/task/blobs/\(Digest.of(bytes))")
            #expect(kept.status == .ok)
            let location = try #require(try await client.send(.post, "/v2/quiver/task/blobs/uploads/").header("Location"))
            try await Task.sleep(for: .seconds(5.5))  // past the lifetime; mtime has a one-second resolution here
            let status = try await client.send(.get, location)
            #expect(status.ociErrorCode == "BLOB_UPLOAD_UNKNOWN")
            let blob = try await client.send(.head, "/v2/quiver/task/blobs/\(Digest.of(bytes))")
            #expect(blob.status == .notFound)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.registry.home + "/uploads/sessions").isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: staged).isEmpty)
    }

    /// A client that stops sending in the middle of a chunk loses its upload after the idle timeout,
    /// even though its request is still open.
    @Test func anUploadExpiresInTheMiddleOfAWrite() async throws {
        let workspace = try ServerWorkspace.empty()
        var limits = ServerLimits()
        limits.uploadIdleTimeout = 0.5
        limits.expiryInterval = 0.1
        limits.connectionIdleTimeout = 30
        let sessions = workspace.registry.home + "/uploads/sessions"
        try await workspace.app(limits: limits).test(.live) { client in
            let port = try #require(client.port)
            let location = try #require(try await client.execute(uri: "/v2/quiver/task/blobs/uploads/", method: .post).headers[.location])
            let answer = try await RawHTTPConnection.with(port: port) { connection -> RawHTTPConnection.Response in
                try connection.sendHead("PATCH", location, headers: ["Content-Length": "100"], body: [])
                try connection.send([UInt8](repeating: 7, count: 10))
                // Expired after 0.5 s idle; a sanitized server on busy cores may take longer to notice, so wait for
                // it (up to 10 s) rather than a fixed time.
                let deadline = Date().addingTimeInterval(10)
                while (try? FileManager.default.contentsOfDirectory(atPath: sessions))?.isEmpty != true, Date() < deadline {
                    Thread.sleep(forTimeInterval: 0.1)
                }
                #expect((try? FileManager.default.contentsOfDirectory(atPath: sessions))?.isEmpty == true)
                try connection.send([UInt8](repeating: 7, count: 90))
                return try connection.response()
            }
            #expect(answer.status == 404 && answer.text.contains("BLOB_UPLOAD_UNKNOWN"), "\(answer.status) \(answer.text)")
        }
    }

    @Test func aSilentConnectionIsClosed() async throws {
        let workspace = try ServerWorkspace.empty()
        var limits = ServerLimits()
        limits.connectionIdleTimeout = 0.5
        try await workspace.app(limits: limits).test(.live) { client in
            let port = try #require(client.port)
            let closed = try await RawHTTPConnection.with(port: port) { connection in
                // Half a request head, then nothing.
                try connection.send(Array("PATCH /v2/quiver/task/blobs/uploads/x HTTP/1.1\r\nHost: localhost\r\n".utf8))
                return connection.isClosedByServer()
            }
            #expect(closed)
        }
    }

    /// A body that keeps arriving a byte at a time (never idle long enough for the idle timeout)
    /// is ended by the request's own time limit.
    @Test func aTricklingBodyIsEndedByTheRequestTimeout() async throws {
        let workspace = try ServerWorkspace.empty()
        var limits = ServerLimits()
        limits.requestBodyTimeout = 1
        limits.connectionIdleTimeout = 30  // far above the 0.2 s between bytes, and above a loaded machine's stalls
        try await workspace.app(limits: limits).test(.live) { client in
            let port = try #require(client.port)
            let location = try #require(try await client.execute(uri: "/v2/quiver/task/blobs/uploads/", method: .post).headers[.location])
            let clock = ContinuousClock()
            let start = clock.now
            let status = try await RawHTTPConnection.with(port: port) { connection -> Int in
                try connection.sendHead("PATCH", location, headers: ["Content-Length": "1000"], body: [])
                for _ in 0..<1000 {
                    Thread.sleep(forTimeInterval: 0.2)
                    do { try connection.send([1]) } catch { break }
                    if let response = try connection.responseIfReady() { return response.status }
                }
                return (try? connection.response().status) ?? 0
            }
            #expect(status == 408, "\(status)")
            // Long before the 200 s the whole body would take at this pace (slack for sanitizer builds).
            #expect(clock.now - start < .seconds(60))
        }
    }
}

/// Clients from 127.0.0.2 that each start an upload and then send its chunk a byte per half second.
final class SlowClients: @unchecked Sendable {
    let port: Int
    let count: Int
    private let stopped = Locked(false)
    private let sending = Locked(0)

    init(port: Int, count: Int) {
        self.port = port
        self.count = count
    }

    var stillSending: Int { sending.withLock { $0 } }

    /// Opens the uploads and starts trickling; returns how many uploads the server refused (blocking).
    func start() throws -> Int {
        var refused = 0
        for _ in 0..<count {
            let connection = try RawHTTPConnection(port: port, source: "127.0.0.2")
            try connection.sendHead("POST", "/v2/quiver/slow/blobs/uploads/", headers: ["Content-Length": "0"])
            let answer = try connection.response()
            guard answer.status == 202, let location = answer.headers["location"] else {
                refused += 1
                connection.close()
                continue
            }
            try connection.sendHead("PATCH", location, headers: ["Content-Length": "100000"], body: [])
            sending.withLock { $0 += 1 }
            Thread {
                while !self.stopped.withLock({ $0 }) {
                    Thread.sleep(forTimeInterval: 0.5)
                    if (try? connection.send([0x61])) == nil { break }
                }
                self.sending.withLock { $0 -= 1 }
                connection.close()
            }.start()
        }
        return refused
    }

    func stop() { stopped.withLock { $0 = true } }
}
