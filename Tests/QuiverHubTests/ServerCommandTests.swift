import Foundation
import QuiverTestServers
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `quiver serve` as users run it: the built executable on a free port, its token from
/// `QUIVER_TOKEN`.
@Suite struct ServerCommandTests {
    @Test func serveAnswersOnTheAddressItPrintsAndTakesTheTokenFromTheEnvironment() async throws {
        let workspace = try ServerWorkspace.filled()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: QuiverProcess.executable)
        process.arguments = ["serve", "--port", "0", "--namespace", "team", "--home", workspace.registry.home]
        process.environment = ProcessInfo.processInfo.environment.merging(["QUIVER_TOKEN": "env-token"]) { _, new in new }
        let errors = ChildPipe(.fromChild)
        process.standardError = errors.childEnd
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        errors.childStarted()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        // "serving REGISTRY at http://127.0.0.1:PORT/team (token needed to write)"
        let line = await Task.detached { () -> String in
            var text = ""
            while !(text.contains("serving ") && text.hasSuffix("\n")) {
                let data = errors.ownEnd.availableData
                if data.isEmpty { break }  // the server exited
                text += String(decoding: data, as: UTF8.self)
            }
            return text
        }.value
        let address = try #require(line.firstMatch(of: /at (http:\/\/127\.0\.0\.1:\d+)\/team \(token needed to write\)/)?.1, "\(line)")

        let (catalog, response) = try await URLSession.shared.data(from: URL(string: "\(address)/v2/_catalog")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: catalog, as: UTF8.self).contains("team/base/tiny-bert"))

        var upload = URLRequest(url: URL(string: "\(address)/v2/team/sentiment/blobs/uploads/")!)
        upload.httpMethod = "POST"
        let (_, refused) = try await URLSession.shared.data(for: upload)
        #expect((refused as? HTTPURLResponse)?.statusCode == 401)
        upload.setValue("Bearer env-token", forHTTPHeaderField: "Authorization")
        let (_, accepted) = try await URLSession.shared.data(for: upload)
        #expect((accepted as? HTTPURLResponse)?.statusCode == 202)
    }

    @Test func badSettingsAreOneLineErrors() async throws {
        let workspace = try ServerWorkspace.empty()
        let quiver = QuiverProcess(home: workspace.registry.home)
        let cases: [([String], String)] = [
            (["--namespace", "Team"], "quiver: invalid namespace 'Team': use lower-case path components of letters and digits separated by '.', '_', '__' or '-'\n"),
            (["--namespace", "a//b"], "quiver: invalid namespace 'a//b': use lower-case path components of letters and digits separated by '.', '_', '__' or '-'\n"),
            (["--no-anonymous-read"], "quiver: closing anonymous reads needs a token (--token or QUIVER_TOKEN)\n"),
            (["--token", "two words"], "quiver: the server token must be non-empty and without white space\n"),
            (["--host", "nowhere.invalid", "--port", "0"], "quiver: cannot listen on nowhere.invalid:0: the host does not resolve to an address\n"),
            (["--host", "0.0.0.0", "--port", "0"], "quiver: without a token, 0.0.0.0 would take anonymous writes from other machines: set QUIVER_TOKEN (or --token), or pass --read-only or --allow-anonymous-writes\n"),
            (["--public-url", "hub.example.com"], "quiver: invalid public URL 'hub.example.com': expected http(s)://HOST[:PORT]\n"),
        ]
        for (arguments, message) in cases {
            let result = try await quiver.runDetached(["serve"] + arguments)
            #expect(result.status == 1 && result.stderr == message, "\(arguments): \(result.stderr)")
        }
        // A port another server holds.
        try await workspace.app().test(.live) { client in
            let port = try #require(client.port)
            let result = try await quiver.runDetached(["serve", "--port", String(port)])
            #expect(result.status == 1 && result.stderr == "quiver: cannot listen on 127.0.0.1:\(port): Address already in use\n", "\(result.stderr)")
        }
    }
}
