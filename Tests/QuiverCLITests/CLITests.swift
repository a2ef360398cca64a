import Foundation
import Testing
import QuiverStore
import QuiverModel
import QuiverTestServers

/// Runs the built `quiver` executable as users do.
struct CLI {
    let home: String
    let folder: String

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-cli-\(UUID().uuidString)").path
        home = folder + "/registry"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    /// The `quiver` binary built beside the test bundle.
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

    func start(_ arguments: [String]) throws -> (Process, ChildPipe, ChildPipe) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["QUIVER_HOME": home]) { _, new in new }
        let out = ChildPipe(.fromChild), err = ChildPipe(.fromChild)
        process.standardOutput = out.childEnd
        process.standardError = err.childEnd
        try process.run()
        out.childStarted()
        err.childStarted()
        return (process, out, err)
    }

    func finish(_ started: (Process, ChildPipe, ChildPipe)) -> Result {
        let (process, out, err) = started
        let stdout = out.ownEnd.readDataToEndOfFile()
        let stderr = err.ownEnd.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    @discardableResult
    func run(_ arguments: String...) throws -> Result { try run(arguments) }

    @discardableResult
    func run(_ arguments: [String]) throws -> Result { finish(try start(arguments)) }

    func cleanUp() { try? FileManager.default.removeItem(atPath: folder) }
}

@Suite struct CLITests {
    @Test func helpIsPrintedNotReportedAsAnError() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        for arguments in [["--help"], ["help"], ["push", "--help"], ["help", "push"], ["remote", "add", "--help"]] {
            let result = try cli.run(arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            #expect(result.stdout.contains("USAGE: quiver"), "\(arguments): \(result.stdout)")
            #expect(!result.stderr.contains("CommandError"), "\(arguments)")
        }
        let unknown = try cli.run(["list", "--no-such-option"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("Unknown option '--no-such-option'"))
    }

    @Test func tourOfTheRegistryCommands() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        #expect(try cli.run("sample", cli.folder + "/samples").status == 0)
        let added = try cli.run("base", "add", cli.folder + "/samples/tiny-bert")
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.contains("added base model tiny-bert"))
        for name in ["sentiment", "topic", "paraphrase-peft"] {
            let pushed = try cli.run("push", name, cli.folder + "/samples/" + name)
            #expect(pushed.status == 0, "\(pushed.stderr)")
        }
        let list = try cli.run("list", "--json")
        let entries = try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [[String: Any]]
        #expect(entries.map { $0["task"] as! String } == ["paraphrase-peft", "sentiment", "topic"])
        for key in ["task", "version", "kind", "architecture", "parameters", "head_parameters", "size", "stored_size", "base"] {
            #expect(entries.allSatisfy { $0[key] != nil }, "missing \(key)")
        }
        #expect(entries[1]["parameters"] as? Int == 8736)
        let table = try cli.run("list")
        #expect(table.stdout.contains("8,736"))
        let show = try cli.run("show", "sentiment", "--json")
        #expect(show.status == 0)
        let pulled = try cli.run("pull", "sentiment", "--output", cli.folder + "/out")
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(FileManager.default.contentsEqual(atPath: cli.folder + "/out/adapter.safetensors", andPath: cli.folder + "/samples/sentiment/adapter.safetensors"))
        #expect(try cli.run("verify").status == 0)
        #expect(try cli.run("rm", "topic").status == 0)
        #expect(try cli.run("gc").status == 0)
    }

    @Test(arguments: [
        (["push", "Bad/Name", "/nowhere"], "invalid task name 'Bad/Name'"),
        (["push", "ok", "/nowhere"], "/nowhere: not a folder"),
        (["show", "missing"], "no adapter or fusion named 'missing'"),
        (["pull", "t:", "--output", "/tmp/x"], "empty version"),
        (["base", "add", "/nowhere"], "/nowhere: not a folder"),
    ])
    func badInputGivesOneLineAndNonZeroExit(_ arguments: [String], _ message: String) throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let result = cli.finish(try cli.start(arguments))
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("quiver: "), "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test func verifyFailsOnADamagedBlob() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try cli.run("sample", cli.folder + "/samples")
        try cli.run("base", "add", cli.folder + "/samples/tiny-bert")
        try cli.run("push", "sentiment", cli.folder + "/samples/sentiment")
        let show = try JSONSerialization.jsonObject(with: Data(try cli.run("show", "sentiment", "--json").stdout.utf8)) as! [String: Any]
        let weights = (show["files"] as! [[String: Any]]).first { $0["name"] as? String == "model_head.safetensors" }!
        let digest = weights["digest"] as! String
        let path = cli.home + "/blobs/sha256/" + digest.dropFirst("sha256:".count)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[100] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))
        let result = try cli.run("verify")
        #expect(result.status != 0)
        #expect(result.stderr.contains("damaged blob \(digest)"))
        #expect(result.stderr.contains("sentiment:1"))
    }

    /// Two processes pushing into one registry at the same time both succeed.
    @Test func concurrentPushesBothSucceed() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try cli.run("sample", cli.folder + "/samples")
        try cli.run("base", "add", cli.folder + "/samples/tiny-bert")
        for round in 0..<3 {
            let first = try cli.start(["push", "shared", cli.folder + "/samples/sentiment", "--description", "round \(round) a"])
            let second = try cli.start(["push", "shared", cli.folder + "/samples/topic"])
            let third = try cli.start(["push", "other-\(round)", cli.folder + "/samples/entailment"])
            for result in [cli.finish(first), cli.finish(second), cli.finish(third)] {
                #expect(result.status == 0, "\(result.stderr)")
            }
        }
        let list = try JSONSerialization.jsonObject(with: Data(try cli.run("list", "--json").stdout.utf8)) as! [[String: Any]]
        #expect(list.filter { $0["task"] as? String == "shared" }.count >= 2)
        #expect(list.filter { ($0["task"] as? String)?.hasPrefix("other-") == true }.count == 3)
        #expect(try cli.run("verify").status == 0)
        // A push that lost a version number to another retries with the next one; the config and
        // manifest it wrote for the lost number are unreferenced garbage for gc, never a listed version's.
        let listed = try cli.run("list", "--json").stdout
        #expect(try cli.run("gc").status == 0)
        #expect(try cli.run("list", "--json").stdout == listed)
        #expect(try cli.run("verify").status == 0)
        for entry in list {
            let task = entry["task"] as! String, version = entry["version"] as! String
            let pulled = try cli.run("pull", "\(task):\(version)", "--output", cli.folder + "/out-\(task)-\(version)")
            #expect(pulled.status == 0, "\(pulled.stderr)")
        }
    }
}
