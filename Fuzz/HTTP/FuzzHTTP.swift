// quiver-fuzz-http: everything `quiver serve` does with a request — routing, access control, the OCI
// controllers with their upload sessions, the JSON API, the web page and inference — driven in process
// (Hummingbird's router test mode: no socket, no HTTP framing) against a registry holding the sample base,
// three adapters and a fusion. Each input is a short session of requests (format below).
//
// Built with SwiftPM's `--sanitize=fuzzer --sanitize=address` and `-DQUIVER_LIBFUZZER` by
// `scripts/fuzz.sh http`, it is a libFuzzer target. Built normally (as `make test` does), it replays input
// files and prints each request with its status: `quiver-fuzz-http FILE...`.
//
// A finding is a trap, an ASan report, a 5xx answer (the server must answer bad requests with 4xx; 503 is
// allowed only as inference back-pressure) or a registry that no longer verifies. See docs/fuzzing.md.
//
// Input format (text; requests separated by a line holding only `%%`):
//
//     PUT /v2/quiver/copy/manifests/latest
//     Content-Type: application/vnd.oci.image.manifest.v1+json
//
//     {response}
//
// First line: METHOD and path. Then header lines up to an empty line, then the body (none without the
// empty line). In paths, headers and the body, `{upload}` is the `Location` of the last response that had
// one (an upload session) and `{digest}` the sha256 of the last body sent (this request's, if it has one);
// a body of exactly `{response}` is the previous response's body (so a fetched manifest can be pushed again).

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import QuiverHub
import QuiverModel
import QuiverStore

/// One fuzz input: the requests of a session, already split into their parts.
struct Session {
    struct Request {
        var method: HTTPRequest.Method
        var path: String
        var headers: [(name: HTTPField.Name, value: String)]
        var body: [UInt8]?
    }

    static let maximumRequests = 16
    var requests: [Request] = []

    init(_ bytes: [UInt8]) {
        for chunk in bytes.split(separator: Array("\n%%\n".utf8), omittingEmptySubsequences: false).prefix(Self.maximumRequests) {
            if let request = Self.request(chunk) { requests.append(request) }
        }
    }

    private static func request(_ chunk: ArraySlice<UInt8>) -> Request? {
        // The head ends at the first empty line; without one there is no body.
        let blankLine = chunk.firstRange(of: Array("\n\n".utf8))
        let body = blankLine.map { Array(chunk[$0.upperBound...]) }
        var lines = chunk[..<(blankLine?.lowerBound ?? chunk.endIndex)].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }
        guard let first = lines.first else { return nil }
        let words = first.split(separator: UInt8(ascii: " "), maxSplits: 1)
        guard words.count == 2, let method = HTTPRequest.Method(String(decoding: words[0], as: UTF8.self)),
              // What an HTTP/1.1 parser lets through as a request target: visible ASCII.
              words[1].allSatisfy({ (0x21...0x7E).contains($0) })
        else { return nil }
        var request = Request(method: method, path: String(decoding: words[1], as: UTF8.self), headers: [], body: body)
        for line in lines.dropFirst() {
            let line = String(decoding: line, as: UTF8.self)
            if let colon = line.firstIndex(of: ":"), let name = HTTPField.Name(String(line[..<colon])) {
                request.headers.append((name, String(line[line.index(after: colon)...])))
            }
        }
        return request
    }
}

/// The registry and the application every input runs against, made once per process.
final class Target: @unchecked Sendable {
    let root: String
    let registry: Registry
    let verbose: Bool
    private var inputs = 0

    init(verbose: Bool) throws {
        self.verbose = verbose
        root = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-fuzz-http-\(getpid())").path
        try? FileManager.default.removeItem(atPath: root)
        try SampleFolders.write(to: root + "/samples", seed: 11)
        registry = try Registry(home: root + "/registry")
        try registry.addBase(folder: root + "/samples/tiny-bert")
        try registry.push(Reference(parsing: "sentiment"), folder: root + "/samples/sentiment", description: "Movie reviews")
        try registry.push(Reference(parsing: "topic:v2"), folder: root + "/samples/topic")
        try registry.push(Reference(parsing: "entailment"), folder: root + "/samples/entailment")
        try registry.importFusion(
            members: [Reference(parsing: "sentiment"), Reference(parsing: "topic:v2")], as: Reference(parsing: "review"),
            folder: root + "/samples/review-fusion")
    }

    func application() throws -> some ApplicationProtocol {
        var logger = Logger(label: "quiver-fuzz-http")
        logger.logLevel = .critical
        let settings = try ServerSettings(home: registry.home, port: 0)
        return try buildApplication(settings: settings, registry: registry, logger: logger)
    }

    /// Runs one session; stops the process on a finding.
    func run(_ session: Session, client: some TestClientProtocol) async throws {
        var location: String?
        var previousBody: [UInt8] = []
        var digest = Digest.of([]).description
        for request in session.requests {
            var body = request.body
            if let text = body.map({ String(decoding: $0, as: UTF8.self) }), text == "{response}" || text == "{response}\n" {
                body = previousBody
            }
            if let body { digest = Digest.of(body).description }
            func substitute(_ text: String) -> String {
                text.replacingOccurrences(of: "{upload}", with: location ?? "/v2/none")
                    .replacingOccurrences(of: "{digest}", with: digest)
            }
            if let text = body.flatMap({ String(validating: $0, as: UTF8.self) }), text.contains("{") {
                body = Array(substitute(text).utf8)
            }
            var headers = HTTPFields()
            for (name, value) in request.headers { headers.append(HTTPField(name: name, value: substitute(value))) }
            let path = substitute(request.path)
            guard path.hasPrefix("/") else { continue }

            let response = try await client.execute(
                uri: path, method: request.method, headers: headers, body: body.map { ByteBuffer(bytes: $0) })
            let responseBody = Array(response.body.readableBytesView)
            if verbose {
                let detail = response.status.code >= 400 ? " " + String(decoding: responseBody.prefix(300), as: UTF8.self) : ""
                print("\(request.method) \(path) → \(response.status.code)\(detail)")
            }
            let backPressure = response.status == .serviceUnavailable && path.hasPrefix("/v1/")
            if response.status.code >= 500, !backPressure {
                fatalError("\(request.method) \(path) answered \(response.status): \(String(decoding: responseBody.prefix(500), as: UTF8.self))")
            }
            if let next = response.headers[.location] { location = next }
            previousBody = responseBody
        }
        inputs += 1
        if inputs % 64 == 0 { try checkRegistry() }
    }

    /// The registry still verifies: every catalogued blob is present and hashes to its digest.
    func checkRegistry() throws {
        let report = try registry.verify()
        guard report.isIntact else {
            fatalError("registry damaged after \(inputs) inputs: \(report.damaged.map { "\($0.digest): \($0.problem)" })")
        }
    }
}

/// Runs sessions handed over from a synchronous caller (libFuzzer's callback) on one long-lived test client.
final class SessionRunner: @unchecked Sendable {
    private let jobs: AsyncStream<(Session, DispatchSemaphore)>
    private let submit: AsyncStream<(Session, DispatchSemaphore)>.Continuation

    init(target: Target) {
        (jobs, submit) = AsyncStream.makeStream()
        let ready = DispatchSemaphore(value: 0)
        Task { [jobs] in
            do {
                try await target.application().test(.router) { client in
                    ready.signal()
                    for await (session, done) in jobs {
                        try await target.run(session, client: client)
                        done.signal()
                    }
                }
            } catch {
                fatalError("quiver-fuzz-http: \(error)")
            }
        }
        ready.wait()
    }

    func run(_ bytes: [UInt8]) {
        let done = DispatchSemaphore(value: 0)
        submit.yield((Session(bytes), done))
        done.wait()
    }
}

#if QUIVER_LIBFUZZER
// libFuzzer brings its own main, which calls the function below for each input.
let fuzzTarget = try! Target(verbose: false)
let fuzzRunner: SessionRunner = {
    atexit { try? FileManager.default.removeItem(atPath: fuzzTarget.root) }
    return SessionRunner(target: fuzzTarget)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzRunner.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#else
@main enum Replay {
    static func main() throws {
        let arguments = CommandLine.arguments.dropFirst()
        guard !arguments.isEmpty else {
            FileHandle.standardError.write(Data("usage: quiver-fuzz-http FILE|FOLDER... (replays fuzz inputs; see docs/fuzzing.md)\n".utf8))
            exit(2)
        }
        let target = try Target(verbose: true)
        defer { try? FileManager.default.removeItem(atPath: target.root) }
        let runner = SessionRunner(target: target)
        for argument in arguments {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: argument, isDirectory: &isFolder) else {
                throw ReplayError("no file or folder '\(argument)'")
            }
            let files = isFolder.boolValue
                ? try FileManager.default.contentsOfDirectory(atPath: argument).sorted().map { argument + "/" + $0 } : [argument]
            for file in files {
                print("== \(file)")
                runner.run(Array(try Data(contentsOf: URL(fileURLWithPath: file))))
            }
        }
        try target.checkRegistry()
        print("\(arguments.count) argument(s) replayed; registry intact")
    }
}

struct ReplayError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
#endif
