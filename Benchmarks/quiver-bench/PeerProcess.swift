import Foundation

/// A peer script (`python script …`) started once for a whole run: it answers each request line with one JSON object
/// on a line of its own, so that its timings can alternate with Quiver's. Its standard error goes to a log file,
/// whose last lines are the error when it stops answering.
final class PeerProcess {
    /// The script's file name, for messages.
    let name: String
    private let process = Process()
    private let input: FileHandle
    private let output: FileHandle
    private var buffer = Data()
    private let logPath: String

    init(python: String, script: String, arguments: [String], log: String) throws {
        name = (script as NSString).lastPathComponent
        logPath = log
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["TOKENIZERS_PARALLELISM"] = "false"
        process.environment = environment
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
        input = stdin.fileHandleForWriting
        output = stdout.fileHandleForReading
    }

    /// Sends `line` and returns the answer; an answer {"error": …} is thrown.
    func request(_ line: String) throws -> [String: Any] {
        try input.write(contentsOf: Data((line + "\n").utf8))
        let reply = try readReply()
        if let error = reply["error"] as? String { throw BenchError("\(name): \(error)") }
        return reply
    }

    /// The next JSON line (the first one is the script's "ready" line).
    func readReply() throws -> [String: Any] {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer.removeSubrange(buffer.startIndex...newline)
                guard let object = try JSONSerialization.jsonObject(with: line) as? [String: Any] else {
                    throw BenchError("\(name) printed a line that is not a JSON object")
                }
                return object
            }
            let chunk = output.availableData
            if chunk.isEmpty {
                let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                let tail = log.split(separator: "\n").suffix(8).joined(separator: "\n    ")
                throw BenchError("\(name) exited; its last messages:\n    \(tail)")
            }
            buffer.append(chunk)
        }
    }

    /// Sends `quit` (scripts that read to the end of their input stop there too) and waits for the script to end.
    func close() {
        guard process.isRunning else { return }
        try? input.write(contentsOf: Data("quit\n".utf8))
        try? input.close()
        process.waitUntilExit()
    }
}
