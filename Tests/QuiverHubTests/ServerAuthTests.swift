import Foundation
import Hummingbird
import HummingbirdTesting
import QuiverStore
import QuiverModel
import Testing

@testable import QuiverHub

/// Writes need the token; reads need it only without anonymous reads.
@Suite struct ServerAuthTests {
    static let token = "s3cret-token"

    @Test func unauthenticatedPushIsRefusedWith401AndNothingIsStored() async throws {
        let source = try ServerWorkspace.filled()
        let server = try ServerWorkspace.empty()
        let review = try source.registry.outgoing(Reference(parsing: "review"))
        let before = try server.snapshot()
        try await server.app(token: Self.token).test(.router) { client in
            let base = review.dependencies[0]
            let config = try source.registry.blobs.readStored(base.blobs[0].digest)
            for headers in [[:], bearer("wrong"), [.authorization: "Basic " + Data("user:wrong".utf8).base64EncodedString()]] as [HTTPFields] {
                let monolithic = try await client.send(.post, "/v2/quiver/base/tiny-bert/blobs/uploads/?digest=\(base.blobs[0].digest)", headers: headers, body: config)
                #expect(monolithic.status == .unauthorized)
                #expect(monolithic.ociErrorCode == "UNAUTHORIZED")
                let challenge = try #require(monolithic.header("WWW-Authenticate"))
                #expect(challenge.hasPrefix("Bearer realm=\""))
                #expect(challenge.contains("/v2/token\",service=\"quiver\""))
                #expect(challenge.contains("scope=\"repository:quiver/base/tiny-bert:pull,push\""))
                #expect(!monolithic.text.contains(Self.token))
                let manifest = try await client.send(.put, "/v2/quiver/base/tiny-bert/manifests/latest", headers: headers, body: base.manifest)
                #expect(manifest.status == .unauthorized)
                let delete = try await client.send(.delete, "/v2/quiver/sentiment/manifests/1", headers: headers)
                #expect(delete.status == .unauthorized)
            }
            // Reads stay anonymous.
            #expect(try await client.send(.get, "/v2/_catalog").status == .ok)
            #expect(try await client.send(.get, "/api/adapters").status == .ok)
        }
        #expect(try server.snapshot() == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: server.registry.home + "/uploads/sessions").isEmpty)

        // With the token (Bearer, or Basic with the token as password) the push goes through.
        try await server.app(token: Self.token).test(.router) { client in
            let basic: HTTPFields = [.authorization: "Basic " + Data("anyone:\(Self.token)".utf8).base64EncodedString()]
            try await ServerTransferClient(client: client, headers: basic).push(review.dependencies[0], from: source.registry)
            try await ServerTransferClient(client: client, headers: bearer(Self.token)).push(review, from: source.registry)
        }
        #expect(try server.registry.list().map(\.task) == ["review", "sentiment", "topic"])
    }

    @Test func closedReadsNeedTheTokenEverywhere() async throws {
        let workspace = try ServerWorkspace.filled()
        try await workspace.app(token: Self.token, anonymousRead: false).test(.router) { client in
            for uri in ["/v2/", "/v2/_catalog", "/v2/quiver/sentiment/tags/list", "/api/adapters", "/api/bases"] {
                let refused = try await client.send(.get, uri)
                #expect(refused.status == .unauthorized, "\(uri)")
                #expect(refused.header("WWW-Authenticate")?.hasPrefix("Bearer realm=") == true)
                #expect(try await client.send(.get, uri, headers: bearer(Self.token)).status == .ok, "\(uri)")
            }
            let page = try await client.send(.get, "/")
            #expect(page.status == .unauthorized)
            #expect(page.header("WWW-Authenticate")?.hasPrefix("Basic realm=") == true)
            let infer = try await client.post(json: ["task": "sentiment", "texts": ["x"]], to: "/v1/infer")
            #expect(infer.status == .unauthorized)
            #expect(infer.apiErrorCode == "unauthorized")
        }
    }

    @Test func tokenEndpointHandsTheTokenOnlyToWhoPresentsIt() async throws {
        let workspace = try ServerWorkspace.empty()
        try await workspace.app(token: Self.token).test(.router) { client in
            let anonymous = try await client.send(.get, "/v2/token?service=quiver&scope=repository:quiver/x:push")
            #expect(anonymous.status == .unauthorized)
            #expect(!anonymous.text.contains(Self.token))
            let basic: HTTPFields = [.authorization: "Basic " + Data("me:\(Self.token)".utf8).base64EncodedString()]
            let granted = try await client.send(.get, "/v2/token?service=quiver&scope=repository:quiver/x:push", headers: basic)
            #expect(granted.status == .ok)
            #expect(try granted.object["token"] as? String == Self.token)
        }
    }

    @Test func tokenComparisonIsExact() {
        #expect(AccessControl.constantTimeEquals("abc", "abc"))
        #expect(!AccessControl.constantTimeEquals("abc", "abd"))
        #expect(!AccessControl.constantTimeEquals("abc", "abcd"))
        #expect(!AccessControl.constantTimeEquals("", "abc"))
        #expect(throws: QuiverError.self) { try ServerSettings(home: "/tmp/x", token: nil, anonymousRead: false) }
        #expect(throws: QuiverError.self) { try ServerSettings(home: "/tmp/x", token: "has space") }
        #expect(throws: QuiverError.self) { try ServerSettings(home: "/tmp/x", namespace: "Bad/NS") }
    }
}
