import Foundation
import QuiverTensor
import QuiverTestServers
import Testing

/// `quiver embed` end to end: a registered base model, texts from arguments or stdin, JSON and text output, errors.
@Suite struct EmbedCommandTests {
    /// The tiny BERT of the encoder fixtures, with the embeddings `transformers` computed for it.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("QuiverModelTests/Fixtures/encoder")

    static func embeddings(_ result: CLI.Result) throws -> [[Float]] {
        let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let rows = try #require(document?["embeddings"] as? [[Double]], "\(result.stdout.prefix(200))")
        #expect(document?.count == 1, "one key")
        return rows.map { $0.map(Float.init) }
    }

    /// Runs `quiver` with `input` on its standard input (`CLI.run` leaves the test's own standard input).
    static func run(_ cli: CLI, _ arguments: [String], input: String) throws -> CLI.Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLI.executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["QUIVER_HOME": cli.home]) { _, new in new }
        let stdin = ChildPipe(.toChild), out = ChildPipe(.fromChild), err = ChildPipe(.fromChild)
        process.standardInput = stdin.childEnd
        process.standardOutput = out.childEnd
        process.standardError = err.childEnd
        try process.run()
        for pipe in [stdin, out, err] { pipe.childStarted() }
        try stdin.ownEnd.write(contentsOf: Data(input.utf8))
        try stdin.ownEnd.close()
        return cli.finish((process, out, err))
    }

    /// The largest |a − b|; infinity when the lengths differ or a value is NaN.
    static func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).reduce(0) { worst, pair in
            let difference = abs(pair.0 - pair.1)
            return difference <= worst ? worst : (difference.isNaN ? .infinity : difference)
        }
    }

    @Test func matchesTransformersThroughTheRegistry() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let added = try cli.run("base", "add", Self.fixtures.appendingPathComponent("tiny-bert").path)
        #expect(added.status == 0, "\(added.stderr)")
        let expected = try SafetensorsFile(path: Self.fixtures.appendingPathComponent("expected.safetensors").path)
        let texts = ["Hello, world!", "THE QUICK Brown FOX", "Café naïve Ångström résumé Zürich"]
        let labels = ["simple", "upper_case", "accents"]
        for pooling in ["mean", "cls"] {
            let result = try Self.run(cli, ["embed", "--json", "--pooling", pooling] + texts, input: "")
            #expect(result.status == 0, "\(result.stderr)")
            let vectors = try Self.embeddings(result)
            #expect(vectors.count == texts.count)
            for (vector, label) in zip(vectors, labels) {
                let reference = try expected.floats("tiny-bert.\(label).\(pooling)")
                #expect(vector.count == 32 && reference.count == 32, "\(pooling) \(label): \(vector.count) values")
                #expect(Self.maxDifference(vector, reference) <= 1e-4, "\(pooling) \(label)")
            }
        }
    }

    @Test func stdinLinesInOrderWithNormalization() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try cli.run("sample", cli.folder + "/samples")
        try cli.run("base", "add", cli.folder + "/samples/tiny-bert")
        // Lengths out of order, a repeated text, an empty line: packing must not change the order.
        let lines = ["a much longer line of several words, to be sorted last", "short", "", "short"]
        let result = try Self.run(
            cli, ["embed", "--json", "--normalize"], input: lines.joined(separator: "\r\n") + "\n")
        #expect(result.status == 0, "\(result.stderr)")
        let vectors = try Self.embeddings(result)
        #expect(vectors.count == 4 && vectors.allSatisfy { $0.count == 128 })
        // The same text at two places of a packed pass: equal up to the products' rounding, which depends on a
        // row's place in the matrix.
        #expect(Self.maxDifference(vectors[1], vectors[3]) <= 1e-6)
        #expect(vectors[0] != vectors[1] && vectors[1] != vectors[2])
        for vector in vectors {
            #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-4, "unit length")
        }
        // The same text alone (no padding) gives the same vector as in the padded batch.
        let alone = try Self.embeddings(try Self.run(cli, ["embed", "--json", "--normalize", lines[1]], input: ""))
        #expect(Self.maxDifference(alone[0], vectors[1]) <= 1e-5)
    }

    @Test func textOutputHasOneLinePerText() throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        try cli.run("base", "add", Self.fixtures.appendingPathComponent("tiny-bert").path)
        let result = try Self.run(cli, ["embed", "first", "second text"], input: "")
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("0  norm ") && lines[0].contains("(32)") && lines[0].hasSuffix("\"first\""))
    }

    @Test(arguments: [
        (["embed", "text"], "the registry has no base model", false),
        (["embed", "--base", "nope", "text"], "no base model named 'nope'", true),
        (["embed"], "no text to embed", true),
        (["embed", "--max-length", "100", "text"], "max length 100 must be between 2 and 48", true),
    ])
    func errorsAreOneLine(_ arguments: [String], _ message: String, _ withBase: Bool) throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        if withBase { try cli.run("base", "add", Self.fixtures.appendingPathComponent("tiny-bert").path) }
        let result = try Self.run(cli, arguments, input: "")
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("quiver: ") && result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }
}
