import Foundation
import QuiverStore
import QuiverModel
import QuiverTestServers
import Testing

/// Runs the built `quiver` executable as users do.
struct QuiverProcess {
    let home: String

    static let executable: String = {
        var directory = Bundle.main.bundleURL
        for _ in 0..<3 {
            let candidate = directory.appendingPathComponent("quiver").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        fatalError("quiver executable not found near \(Bundle.main.bundleURL.path)")
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = arguments
        var base = ProcessInfo.processInfo.environment
        for key in ["QUIVER_REMOTE", "QUIVER_TOKEN", "QUIVER_USERNAME", "QUIVER_PASSWORD"] { base[key] = nil }
        process.environment = base.merging(["QUIVER_HOME": home]) { _, new in new }.merging(environment) { _, new in new }
        let out = ChildPipe(.fromChild), err = ChildPipe(.fromChild)
        process.standardOutput = out.childEnd
        process.standardError = err.childEnd
        try process.run()
        out.childStarted()
        err.childStarted()
        let stdout = out.ownEnd.readDataToEndOfFile()
        let stderr = err.ownEnd.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    func run(_ arguments: String..., environment: [String: String] = [:]) throws -> Result { try run(arguments, environment: environment) }

    /// `run` on a thread of its own: a test whose server runs in this process must not block the
    /// cooperative threads that server answers on.
    func runDetached(_ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        try await onThreadOfItsOwn { try run(arguments, environment: environment) }
    }
}

@Suite struct ClientCommandTests {
    @Test func remoteAddListRemove() throws {
        let workspace = try Workspace()
        let quiver = QuiverProcess(home: workspace.root + "/registry")
        #expect(try quiver.run("remote", "add", "team", "https://registry.example.com/nlp").stdout == "added remote team: https://registry.example.com/nlp\n")
        #expect(try quiver.run("remote", "add", "local", "http://127.0.0.1:8080/quiver").status == 0)
        let listed = try quiver.run("remote", "list", environment: ["QUIVER_REMOTE": "team"])
        #expect(listed.stdout.contains("* team") && listed.stdout.contains("  local"), "\(listed.stdout)")
        let json = try quiver.run("remote", "list", "--json")
        let remotes = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(remotes.map { "\($0["name"]!) \($0["url"]!)" } == ["local http://127.0.0.1:8080/quiver", "team https://registry.example.com/nlp"])
        #expect(remotes.allSatisfy { $0["insecure"] as? Bool == false })
        #expect(try quiver.run("remote", "add", "lab", "http://10.0.0.5:5000/nlp", "--insecure").stdout.contains("(insecure"))
        #expect(try quiver.run("remote", "list").stdout.contains("http://10.0.0.5:5000/nlp (insecure)"))
        let secret = try quiver.run("remote", "add", "x", "https://bob:hunter2@host/ns")
        #expect(secret.status != 0 && secret.stderr.hasPrefix("quiver: ") && !secret.stderr.contains("hunter2"))
        #expect(try quiver.run("remote", "rm", "local").stdout == "removed remote local\n")
        let missing = try quiver.run("remote", "rm", "local")
        #expect(missing.status == 3 && missing.stderr.contains("no remote named 'local'"))
    }

    @Test func pushAndPullArgumentsAreChecked() throws {
        let workspace = try Workspace()
        let quiver = QuiverProcess(home: workspace.root + "/registry")
        let both = try quiver.run("push", "sentiment", "some/folder", "--to", "http://h/ns")
        #expect(both.status != 0 && both.stderr.contains("not both"), "\(both.stderr)")
        let neither = try quiver.run("push", "sentiment")
        #expect(neither.status != 0 && neither.stderr.contains("--to REMOTE"), "\(neither.stderr)")
        let pullNeither = try quiver.run("pull", "sentiment")
        #expect(pullNeither.status != 0 && pullNeither.stderr.contains("--from REMOTE"), "\(pullNeither.stderr)")
        let unknown = try quiver.run("pull", "sentiment", "--from", "nowhere")
        #expect(unknown.status == 3 && unknown.stderr == "quiver: no remote named 'nowhere': save one with `quiver remote add nowhere URL`, or give http(s)://HOST[:PORT]/NAMESPACE\n")
        let noBase = try quiver.run("pull", "sentiment", "--output", workspace.root + "/out", "--no-base")
        #expect(noBase.status != 0 && noBase.stderr.contains("--no-base applies"), "\(noBase.stderr)")
    }

    @Test(.enabled(if: DockerRegistryServer.shouldRun, "docker-registry is not installed"))
    func pushListAndPullThroughTheCommandLine() async throws {
        let workspace = try Workspace()
        try await DockerRegistryServer.with { server in
            try await RemoteScenarios.commandLineRoundTrip(server, workspace: workspace)
        }
    }
}
