// A Python peer that stays up for a whole benchmark run: started once, it prints one JSON line when ready, then
// answers each request line with one JSON line. Keeping it alive lets a suite alternate rounds between Quiver and
// the peer on the same (shared) machine without paying the peer's start-up and model loading in every round.
import Foundation

final class PeerProcess {
    private let process = Process()
    private let input: FileHandle
    private let output: FileHandle
    private var buffer = Data()
    private let logPath: String
    private let name: String
    /// The script's first line (`{"ready": true, …}`).
    let ready: [String: Any]

    /// Starts `python script arguments…`, its standard error to `log`, and waits for its ready line.
    init(python: String, script: String, arguments: [String], log: String) throws {
        logPath = log
        name = (script as NSString).lastPathComponent
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [script] + arguments
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
        input = stdin.fileHandleForWriting
        output = stdout.fileHandleForReading
        var first = Data()
        ready = try Self.readLine(output, &first, name: name, log: log)
        buffer = first
        guard ready["ready"] as? Bool == true else { throw BenchError("unexpected first line from \(name): \(ready)") }
    }

    /// "python 3.x, torch 2.x, …" from the ready line's version fields, then the first lines of PyTorch's parallel
    /// settings when the script gives them.
    var versions: String {
        var text = ["python", "torch", "transformers", "adapters"].compactMap { key in
            (ready[key] as? String).map { "\(key) \($0)" }
        }.joined(separator: ", ")
        if let parallel = ready["torch_parallel"] as? [String] {
            text += " — " + parallel.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "; ")
        }
        return text
    }

    /// Sends one request line and returns the reply; a reply with `error` is thrown.
    func request(_ line: String) throws -> [String: Any] {
        try input.write(contentsOf: Data((line + "\n").utf8))
        let reply = try Self.readLine(output, &buffer, name: name, log: logPath)
        if let error = reply["error"] as? String { throw BenchError("\(name): \(error)") }
        return reply
    }

    func close() {
        guard process.isRunning else { return }
        try? input.write(contentsOf: Data("quit\n".utf8))
        try? input.close()
        process.waitUntilExit()
    }

    private static func readLine(_ output: FileHandle, _ buffer: inout Data, name: String, log: String) throws
        -> [String: Any]
    {
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
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                let tail = text.split(separator: "\n").suffix(8).joined(separator: "\n    ")
                throw BenchError("\(name) exited; its last messages:\n    \(tail)")
            }
            buffer.append(chunk)
        }
    }
}
