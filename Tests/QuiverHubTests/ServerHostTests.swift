import Foundation
import Hummingbird
import HummingbirdTesting
import QuiverStore
import QuiverModel
import Testing

@testable import QuiverHub

/// DNS rebinding and anonymous writes: a request must name this server in its `Host` header, and a
/// server without a token takes writes only on loopback addresses.
@Suite struct ServerHostTests {
    /// A web page of `evil.example` whose name was rebound to 127.0.0.1 sends its requests with
    /// `Host: evil.example:PORT`: every route answers 421 and nothing changes.
    @Test func aForeignHostGets421OnEveryRouteAndDeletesNothing() async throws {
        let workspace = try ServerWorkspace.filled()
        let before = try workspace.snapshot()
        try await workspace.app().test(.live) { client in
            let port = try #require(client.port)
            let requests: [(String, String)] = [
                ("DELETE", "/v2/quiver/entailment/manifests/1"), ("GET", "/v2/"), ("GET", "/v2/_catalog"), ("GET", "/"),
                ("GET", "/api/adapters"), ("POST", "/v1/infer"), ("POST", "/v2/quiver/x/blobs/uploads/"), ("GET", "/nowhere"),
            ]
            for (method, path) in requests {
                for host in ["evil.example:\(port)", "evil.example", "127.0.0.1.evil.example:\(port)", "[::2]:\(port)", "local host"] {
                    let response = try await Self.raw(port: port) { connection in
                        try connection.sendHead(method, path, host: host, headers: ["Content-Length": "0"])
                        return try connection.response()
                    }
                    #expect(response.status == 421 || (host == "local host" && response.status == 400), "\(method) \(path) Host \(host): \(response.status)")
                }
            }
            for host in ["localhost:\(port)", "127.0.0.1:\(port)", "LOCALHOST", "localhost.:\(port)"] {
                let response = try await Self.raw(port: port) { connection in
                    try connection.sendHead("GET", "/v2/_catalog", host: host)
                    return try connection.response()
                }
                #expect(response.status == 200, "Host \(host): \(response.status) \(response.text)")
            }
        }
        #expect(try workspace.snapshot() == before)
    }

    @Test func aPublicURLsHostIsAccepted() async throws {
        let workspace = try ServerWorkspace.filled()
        try await workspace.app(publicURLs: ["https://hub.example.com/quiver"]).test(.live) { client in
            let port = try #require(client.port)
            let response = try await Self.raw(port: port) { connection in
                try connection.sendHead("GET", "/v2/_catalog", host: "hub.example.com")
                return try connection.response()
            }
            #expect(response.status == 200)
        }
    }

    @Test func allowListParsesAuthorities() throws {
        let list = HostAllowList(hosts: ["localhost", "127.0.0.1", "::1", "hub.example.com"])
        for allowed in ["localhost", "localhost:8080", "127.0.0.1:1", "[::1]:8080", "[::1]", "Hub.Example.COM:443", "hub.example.com."] {
            #expect(list.allows(authority: allowed), "\(allowed)")
        }
        for refused in ["evil.example", "localhost:80x", "[::1", "[::1]x", "::1:80", "", ":80", "127.0.0.2", "localhost.evil"] {
            #expect(!list.allows(authority: refused), "\(refused)")
        }
        #expect(list.allows(authority: nil))
        #expect(throws: QuiverError.self) { try HostAllowList.host(ofPublicURL: "ftp://x") }
        #expect(try HostAllowList.host(ofPublicURL: "https://Hub.Example.com:8443/ns") == "hub.example.com")
    }

    @Test func loopbackAddressesAreRecognised() {
        for host in ["127.0.0.1", "localhost", "::1", "127.1.2.3"] { #expect(HostAllowList.isLoopback(host: host), "\(host)") }
        for host in ["0.0.0.0", "::", "10.1.2.3", ""] { #expect(!HostAllowList.isLoopback(host: host), "\(host)") }
    }

    /// Without a token, a server other machines reach refuses to start unless told what to do about writes.
    @Test func anonymousWritesOnAPublicAddressNeedToBeAskedFor() throws {
        let error = #expect(throws: QuiverError.self) { try ServerSettings(home: "/tmp/x", host: "0.0.0.0") }
        #expect(error?.message.contains("--allow-anonymous-writes") == true)
        #expect(throws: Never.self) { try ServerSettings(home: "/tmp/x", host: "0.0.0.0", anonymousWrites: .readOnly) }
        #expect(throws: Never.self) { try ServerSettings(home: "/tmp/x", host: "0.0.0.0", anonymousWrites: .allowed) }
        #expect(throws: Never.self) { try ServerSettings(home: "/tmp/x", host: "0.0.0.0", token: "t") }
        #expect(throws: Never.self) { try ServerSettings(home: "/tmp/x", host: "127.0.0.1") }
        #expect(throws: QuiverError.self) { try ServerSettings(home: "/tmp/x", publicURLs: ["not a url"]) }
    }

    @Test func aReadOnlyServerRefusesEveryWriteEvenWithTheToken() async throws {
        let workspace = try ServerWorkspace.filled()
        let before = try workspace.snapshot()
        try await workspace.app(token: "s3cret", anonymousWrites: .readOnly).test(.router) { client in
            let upload = try await client.send(.post, "/v2/quiver/x/blobs/uploads/", headers: bearer("s3cret"))
            #expect(upload.status == .forbidden && upload.ociErrorCode == "DENIED")
            let delete = try await client.send(.delete, "/v2/quiver/entailment/manifests/1", headers: bearer("s3cret"))
            #expect(delete.status == .forbidden)
            let read = try await client.send(.get, "/v2/_catalog")
            #expect(read.status == .ok)
            let infer = try await client.post(json: ["task": "sentiment", "texts": ["x"]], to: "/v1/infer")
            #expect(infer.status == .ok)
        }
        #expect(try workspace.snapshot() == before)
    }

    static func raw<T: Sendable>(port: Int, _ body: @escaping @Sendable (RawHTTPConnection) throws -> T) async throws -> T {
        try await RawHTTPConnection.with(port: port, body)
    }
}
