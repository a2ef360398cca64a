import Foundation
import QuiverStore
import QuiverModel
import Testing
@testable import QuiverHub

/// Parsing and bookkeeping that needs no server.
@Suite struct ClientUnitTests {
    @Test func remoteURLs() throws {
        let remote = try RemoteLocation(parsing: "https://registry.example.com:5000/team/nlp/")
        #expect(remote.scheme == "https" && remote.host == "registry.example.com" && remote.port == 5000)
        #expect(remote.namespace == "team/nlp")
        #expect(remote.repository("sentiment") == "team/nlp/sentiment")
        #expect(remote.relative("team/nlp/base/tiny-bert") == "base/tiny-bert")
        #expect(remote.relative("team/other") == nil)
        #expect(remote.description == "https://registry.example.com:5000/team/nlp")

        let withUser = try RemoteLocation(parsing: "http://bob:pa55@localhost/quiver")
        #expect(withUser.credentials == BasicCredentials(username: "bob", password: "pa55"))
        #expect(!withUser.description.contains("pa55") && !"\(withUser.credentials!)".contains("pa55"))

        for bad in ["ftp://host/ns", "http://host", "http://host/", "http://host/Team", "registry.example.com/ns", "http://host/ns?x=1", "http://host/a//b"] {
            #expect(throws: QuiverError.self, "\(bad)") { try RemoteLocation(parsing: bad) }
        }
        let error = #expect(throws: QuiverError.self) { try RemoteLocation(parsing: "ftp://bob:pa55@host/ns") }
        #expect(error?.message.contains("pa55") == false)
    }

    @Test func credentialsBelongToOneRegistry() throws {
        let location = try RemoteLocation(parsing: "http://host/ns")
        let bound = ["QUIVER_TOKEN": "env-token", "QUIVER_USERNAME": "alice", "QUIVER_PASSWORD": "pw", "QUIVER_REMOTE": "http://HOST:80/other"]
        #expect(RemoteCredentials.resolve(for: location, token: "flag-token", environment: bound).token == "flag-token")
        #expect(RemoteCredentials.resolve(for: location, token: nil, environment: bound).token == "env-token")
        #expect(RemoteCredentials.resolve(for: location, token: nil, environment: bound).basic == BasicCredentials(username: "alice", password: "pw"))
        let inURL = try RemoteLocation(parsing: "http://bob:x@host/ns")
        #expect(RemoteCredentials.resolve(for: inURL, token: nil, environment: bound).basic?.username == "bob")
        // The environment's credentials go only to the registry QUIVER_REMOTE names: scheme, host and port.
        var unbound = bound
        unbound["QUIVER_REMOTE"] = nil
        #expect(RemoteCredentials.resolve(for: location, token: nil, environment: unbound).isEmpty)
        for other in ["https://host/ns", "http://host:5000/ns", "http://other/ns"] {
            unbound["QUIVER_REMOTE"] = other
            #expect(RemoteCredentials.resolve(for: location, token: nil, environment: unbound).isEmpty, "\(other)")
        }
        // A saved name in QUIVER_REMOTE is looked up in the registry folder.
        let workspace = try Workspace()
        _ = try SavedRemotes(home: workspace.root).add(name: "team", url: "http://host/nlp")
        unbound["QUIVER_REMOTE"] = "team"
        #expect(RemoteCredentials.resolve(for: location, token: nil, environment: unbound, home: workspace.root).token == "env-token")
        let shown = "\(RemoteCredentials.resolve(for: location, token: "flag-token", environment: bound))"
        #expect(!shown.contains("flag-token") && !shown.contains("pw"))
    }

    @Test func credentialsGoOverPlainHTTPOnlyToThisMachineOrAnInsecureRemote() throws {
        let credentials = RemoteCredentials(token: "t")
        for url in ["http://127.0.0.1:5000/ns", "http://127.9.8.7/ns", "http://localhost/ns", "http://[::1]:8080/ns", "https://registry.example.com/ns"] {
            #expect(throws: Never.self, "\(url)") { try credentials.check(sendingTo: try RemoteLocation(parsing: url)) }
        }
        var lab = try RemoteLocation(parsing: "http://10.0.0.5:5000/ns")
        let refused = #expect(throws: QuiverError.self) { try credentials.check(sendingTo: lab) }
        #expect(refused?.message == "refusing to send credentials to 10.0.0.5 over plain http: use https, or, on a network you trust, save the remote with `quiver remote add NAME http://10.0.0.5:5000/ns --insecure`")
        lab.insecure = true
        try credentials.check(sendingTo: lab)
        try RemoteCredentials().check(sendingTo: try RemoteLocation(parsing: "http://10.0.0.5/ns"))
        #expect(!(try RemoteLocation(parsing: "http://127.example.com/ns").isLoopback))
    }

    @Test func remoteTextIsMadeSafeForATerminal() throws {
        #expect(TerminalText.sanitized(ClientCredentialTests.hostile) == "abcdefghi")
        #expect(TerminalText.sanitized("tab\tand\nnewline stay, é and 日本 too") == "tab\tand\nnewline stay, é and 日本 too")
        #expect(TerminalText.sanitized("\u{1B}(Bx\u{1B}7y\u{1B}") == "xy")
        let json = TerminalText.escapingControls(inJSON: "[\"a\u{7F}b\u{9B}c\"]")
        #expect(json == #"["a\u007fb\u009bc"]"#)
        #expect(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String] == ["a\u{7F}b\u{9B}c"])
    }

    @Test func savedRemotes() throws {
        let workspace = try Workspace()
        let saved = SavedRemotes(home: workspace.root)
        #expect(try saved.all().isEmpty)
        _ = try saved.add(name: "team", url: "https://registry.example.com/nlp")
        _ = try saved.add(name: "local", url: "http://127.0.0.1:8080/quiver")
        #expect(try saved.all().map(\.name) == ["local", "team"])
        #expect(try saved.location(named: "team")?.namespace == "nlp")
        let refused = #expect(throws: QuiverError.self) { try saved.add(name: "secret", url: "https://bob:hunter2@host/ns") }
        #expect(refused?.message.contains("hunter2") == false)
        #expect(throws: QuiverError.self) { try saved.add(name: "Bad Name", url: "http://host/ns") }
        try saved.remove(name: "local")
        #expect(try saved.all().map(\.name) == ["team"])
        #expect(throws: QuiverError.self) { try saved.remove(name: "local") }
        let text = try String(contentsOfFile: saved.path, encoding: .utf8)
        #expect(text.contains("\"team\" : \"https://registry.example.com/nlp\""), "\(text)")
        // Insecure remotes are objects; plain ones stay URLs, as older files have them.
        _ = try saved.add(name: "lab", url: "http://10.0.0.5:5000/nlp", insecure: true)
        #expect(try saved.location(named: "lab")?.insecure == true && saved.location(named: "team")?.insecure == false)
        let written = try String(contentsOfFile: saved.path, encoding: .utf8)
        #expect(written.contains("\"insecure\" : true") && written.contains("\"team\" : \"https://registry.example.com/nlp\""), "\(written)")
        try saved.remove(name: "lab")
        #expect(try FileManager.default.contentsOfDirectory(atPath: workspace.root) == ["remotes.json"], "no temporary file left")

        // Resolution: URLs as they are, names from the file, QUIVER_REMOTE by default.
        #expect(try RemoteResolution.location("team", home: workspace.root, environment: [:]).host == "registry.example.com")
        #expect(try RemoteResolution.location(nil, home: workspace.root, environment: ["QUIVER_REMOTE": "team"]).namespace == "nlp")
        #expect(try RemoteResolution.location("http://h:1/x", home: workspace.root, environment: [:]).port == 1)
        let unknown = #expect(throws: QuiverError.self) { try RemoteResolution.location("nope", home: workspace.root, environment: [:]) }
        #expect(unknown?.kind == .notFound)
        #expect(throws: QuiverError.self) { try RemoteResolution.location(nil, home: workspace.root, environment: [:]) }
    }

    @Test func challenges() {
        let parsed = AuthChallenge.parse(#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push""#)
        #expect(parsed == [AuthChallenge(scheme: "bearer", parameters: [
            "realm": "https://auth.example.com/token", "service": "registry.example.com", "scope": "repository:a/b:pull,push",
        ])])
        let two = AuthChallenge.parse(#"Basic realm="x", Bearer realm="https://t/token", error="insufficient_scope""#)
        #expect(two.map(\.scheme) == ["basic", "bearer"])
        #expect(two[1].parameters["error"] == "insufficient_scope")
        #expect(AuthChallenge.parse(#"Basic realm="quote \" inside""#).first?.parameters["realm"] == #"quote " inside"#)
        #expect(AuthChallenge.parse("").isEmpty)
        #expect(AuthChallenge.parse("Negotiate").map(\.scheme) == ["negotiate"])
    }

    @Test func specErrorsAndLinks() {
        let body = #"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":"sha256:abc"},{"code":"DENIED","message":"no","detail":{"Action":"push"}}]}"#
        #expect(DistributionErrorBody.parse(Array(body.utf8))?.summary == "BLOB_UNKNOWN: blob unknown to registry (sha256:abc); DENIED: no ({Action: push})")
        #expect(DistributionErrorBody.parse(Array("not json".utf8)) == nil)
        #expect(DistributionErrorBody.parse(Array(#"{"errors":[]}"#.utf8)) == nil)
        #expect(DistributionClient.nextLink(#"</v2/_catalog?last=b&n=2>; rel="next""#) == "/v2/_catalog?last=b&n=2")
        #expect(DistributionClient.nextLink(#"<https://x/a>; rel="prev", <https://x/b>; rel="next""#) == "https://x/b")
        #expect(DistributionClient.nextLink(#"<https://x/a>; rel="prev""#) == nil)
        #expect(DistributionClient.appending("digest=sha256:1", to: "http://h/u?_state=x") == "http://h/u?_state=x&digest=sha256:1")
        #expect(DistributionClient.appending("digest=sha256:1", to: "http://h/u") == "http://h/u?digest=sha256:1")
        #expect(DistributionClient.resolve("/v2/x/blobs/uploads/1", against: "http://h:5/v2/x/blobs/uploads/") == "http://h:5/v2/x/blobs/uploads/1")
    }

    @Test func progressLinesWithoutATerminal() {
        let lines = Locked<[String]>([])
        let display = ProgressDisplay(interactive: false) { text in lines.withLock { $0.append(text) } }
        display.observer(.artifact(action: .pull, repository: "sentiment", reference: "1"))
        display.observer(.blobStarted(id: "sha256:1", label: "sentiment/adapter.safetensors", total: 2048, already: 0))
        display.observer(.blobProgress(id: "sha256:1", done: 1024))
        display.observer(.blobFinished(id: "sha256:1", outcome: .downloaded))
        display.finish()
        #expect(lines.withLock { $0 } == ["pulling sentiment:1\n", "  downloaded sentiment/adapter.safetensors (2.00 KiB)\n"])
    }
}
