import Foundation
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
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer {
            process.terminate()
            process.waitUntilExit()
        }
        // "serving REGISTRY at http://127.0.0.1:PORT/team (token needed to write)"
        let line = await Task.detached { () -> String in
            var text = ""
            while !(text.contains("serving ") && text.hasSuffix("\n")) {
                let data = errors.fileHandleForReading.availableData
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
}
