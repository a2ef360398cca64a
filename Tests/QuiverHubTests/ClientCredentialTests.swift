import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import QuiverStore
import QuiverModel
import Testing
@testable import QuiverHub

/// Which remote gets which credentials, plain http, redirects, and remote text on the terminal —
/// through the built `quiver` against a small in-test registry that records what it is sent and
/// answers with terminal escape sequences wherever a registry can put text.
@Suite struct ClientCredentialTests {
    /// Text with a title-setting OSC, a screen clear, a colour, a hyperlink, DEL, BEL and C1 controls.
    static let hostile = "a\u{1B}]0;owned\u{07}b\u{1B}[2Jc\u{1B}[31md\u{7F}e\u{9B}31mf\u{1B}]8;;http://x\u{1B}\\g\u{85}h\u{08}i"

    final class Server: Sendable {
        /// The `Authorization` header of each request (`-` when there was none).
        let authorizations = Locked<[String]>([])

        func application() -> some ApplicationProtocol {
            let router = Router()
            router.get("/v2/_catalog") { request, _ -> Response in
                self.record(request)
                return Self.json(#"{"repositories":["ns/sentiment"]}"#)
            }
            router.get("/v2/:namespace/:task/tags/list") { request, _ -> Response in
                self.record(request)
                return Self.json(#"{"name":"ns/sentiment","tags":["1"]}"#)
            }
            router.get("/v2/:namespace/:task/manifests/:reference") { request, context -> Response in
                self.record(request)
                guard context.parameters.get("namespace") == "ns", context.parameters.get("reference") == "1" else {
                    let body = try JSONEncoder().encode(["errors": [["code": "DENIED", "message": ClientCredentialTests.hostile]]])
                    return Response(status: .forbidden, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: body)))
                }
                let zero = "sha256:" + String(repeating: "0", count: 64)
                let manifest = try JSONEncoder().encode(Manifest(
                    artifactType: MediaType.adapterArtifact,
                    config: Descriptor(mediaType: MediaType.adapterConfig, digest: try Digest(parsing: zero), size: 2), layers: [], subject: nil,
                    annotations: [
                        AnnotationKey.kind: "adapter", AnnotationKey.architecture: ClientCredentialTests.hostile,
                        AnnotationKey.baseName: ClientCredentialTests.hostile, AnnotationKey.task: "sentiment", AnnotationKey.version: "1",
                    ]))
                return Response(status: .ok, headers: [.contentType: MediaType.imageManifest], body: .init(byteBuffer: ByteBuffer(data: manifest)))
            }
            router.head("/v2/:namespace/:task/blobs/:digest") { request, _ -> Response in
                self.record(request)
                return Response(status: .temporaryRedirect, headers: [.location: "http+unix://%2Ftmp%2Fquiver-no.sock/blob"])
            }
            return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        }

        func record(_ request: Request) {
            authorizations.withLock { $0.append(request.headers[.authorization] ?? "-") }
        }

        func takeAuthorizations() -> [String] {
            authorizations.withLock { seen in
                defer { seen = [] }
                return seen
            }
        }

        static func json(_ text: String) -> Response {
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }

    /// Control characters a terminal acts on: C0 but newline and tab, DEL, and C1.
    static func controls(in text: String) -> [Unicode.Scalar] {
        text.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || (0x7F...0x9F).contains($0.value) }
    }

    @Test func environmentCredentialsGoOnlyToTheRemoteOfQuiverRemote() async throws {
        let server = Server()
        let workspace = try Workspace()
        let quiver = QuiverProcess(home: workspace.root + "/registry")
        try await server.application().test(.live) { client in
            let origin = "http://127.0.0.1:\(client.port!)"
            let environment = ["QUIVER_TOKEN": "env-secret", "QUIVER_USERNAME": "alice", "QUIVER_PASSWORD": "pw"]
            // Named on the command line, not by QUIVER_REMOTE: the environment's credentials stay home.
            _ = try await quiver.runDetached(["pull", "sentiment:2", "--from", origin + "/ns"], environment: environment)
            #expect(server.takeAuthorizations() == ["-"])
            // QUIVER_REMOTE names another namespace of the same registry (scheme, host, port): they go.
            _ = try await quiver.runDetached(
                ["pull", "sentiment:2", "--from", origin + "/ns"], environment: environment.merging(["QUIVER_REMOTE": origin + "/other"]) { $1 })
            #expect(server.takeAuthorizations() == ["Bearer env-secret"])
            // QUIVER_REMOTE names another host: they do not.
            _ = try await quiver.runDetached(
                ["pull", "sentiment:2", "--from", origin + "/ns"],
                environment: environment.merging(["QUIVER_REMOTE": "http://localhost:\(client.port!)/ns"]) { $1 })
            #expect(server.takeAuthorizations() == ["-"])
            // --token belongs to the remote of its command line.
            _ = try await quiver.runDetached(["pull", "sentiment:2", "--from", origin + "/ns", "--token", "flag-secret"], environment: environment)
            #expect(server.takeAuthorizations() == ["Bearer flag-secret"])
        }
    }

    @Test func credentialsAreNotSentOverPlainHTTPToAnotherHost() async throws {
        let workspace = try Workspace()
        let quiver = QuiverProcess(home: workspace.root + "/registry")
        // `.invalid` never resolves (RFC 2606): nothing leaves the machine even if the check were missing.
        let flag = try quiver.run("pull", "sentiment", "--from", "http://registry.invalid/ns", "--token", "t")
        #expect(flag.status == 1)
        #expect(flag.stderr.contains("registry.invalid") && flag.stderr.contains("plain http") && flag.stderr.contains("--insecure"), "\(flag.stderr)")
        #expect(flag.stderr.split(separator: "\n").count == 1, "\(flag.stderr)")
        let environment = try quiver.run("pull", "sentiment", environment: ["QUIVER_REMOTE": "http://registry.invalid/ns", "QUIVER_TOKEN": "t"])
        #expect(environment.status == 1 && environment.stderr.contains("plain http"), "\(environment.stderr)")
        let url = try quiver.run("list", "--remote", "http://bob:pw@registry.invalid/ns")
        #expect(url.status == 1 && url.stderr.contains("plain http") && !url.stderr.contains("pw@"), "\(url.stderr)")
    }

    @Test func remoteTextReachesTheTerminalWithoutControlCharacters() async throws {
        let server = Server()
        let workspace = try Workspace()
        let quiver = QuiverProcess(home: workspace.root + "/registry")
        try await server.application().test(.live) { client in
            let remote = "http://127.0.0.1:\(client.port!)/ns"
            let table = try await quiver.runDetached(["list", "--remote", remote])
            #expect(table.status == 0, "\(table.stderr)")
            #expect(table.stdout.contains("abcdefghi"), "\(table.stdout)")
            #expect(Self.controls(in: table.stdout + table.stderr).isEmpty, "\(table.stdout.debugDescription)")
            let json = try await quiver.runDetached(["list", "--remote", remote, "--json"])
            #expect(Self.controls(in: json.stdout).isEmpty, "\(json.stdout.debugDescription)")
            let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
            #expect(entries.first?["architecture"] as? String == Self.hostile, "JSON keeps the value, escaped")
            let refused = try await quiver.runDetached(["pull", "sentiment:2", "--from", remote])
            #expect(refused.status == 1 && refused.stderr.contains("DENIED"), "\(refused.stderr)")
            #expect(Self.controls(in: refused.stderr).isEmpty, "\(refused.stderr.debugDescription)")
        }
    }

    @Test func redirectsGoOnlyToHTTPOrHTTPS() async throws {
        let server = Server()
        try await server.application().test(.live) { client in
            let location = try RemoteLocation(parsing: "http://127.0.0.1:\(client.port!)/ns")
            let error = await #expect(throws: QuiverError.self) {
                try await DistributionClient.with(location: location, credentials: RemoteCredentials()) { client in
                    try await client.blobExists(Digest.of([1]), in: "ns/sentiment")
                }
            }
            #expect(error?.message.contains("only http and https") == true, "\(error?.message ?? "")")
        }
    }
}
