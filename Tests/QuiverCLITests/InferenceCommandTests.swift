import Foundation
import QuiverTestServers
import Testing

/// `fuse --from`, `infer` (one task, a fusion, --tasks) from the command line, on the sample models.
@Suite struct InferenceCommandTests {
    /// One prepared registry shared by the tests, which only read it (refused commands change nothing).
    static let shared: CLI = try! prepared()

    /// A registry with the sample base, sentiment, topic, a LoRA and the sample fusion over sentiment and topic.
    static func prepared() throws -> CLI {
        let cli = try CLI()
        let samples = cli.folder + "/samples"
        try cli.run("sample", samples)
        try cli.run("base", "add", samples + "/tiny-bert")
        for name in ["sentiment", "topic", "entailment"] { try cli.run("push", name, samples + "/" + name) }
        let fused = try cli.run("fuse", "sentiment,topic", "--as", "review", "--from", samples + "/review-fusion")
        #expect(fused.status == 0, "\(fused.stderr)")
        return cli
    }

    func json(_ result: CLI.Result) throws -> [String: Any] {
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
    }

    @Test func inferReportsLogitsAndLabels() throws {
        let cli = Self.shared
        for task in ["sentiment", "review", "entailment:1"] {
            let output = try json(try cli.run("infer", task, "the movie was great", "terrible service", "--json"))
            #expect((output["task"] as? String)?.hasPrefix(task.split(separator: ":")[0] + ":") == true)
            let results = output["results"] as! [[String: Any]]
            #expect(results.map { $0["text"] as! String } == ["the movie was great", "terrible service"])
            for result in results {
                let logits = result["logits"] as! [Double]
                #expect(logits.count == (task == "sentiment" ? 2 : 3))
                #expect(result["label"] is String)
            }
        }
    }

    /// Lines ending in `\r\n` on standard input are separate texts (a split on "\n" of a Swift string
    /// saw one: "\r\n" is a single character), as for `embed`.
    @Test func standardInputLinesMayEndInCarriageReturns() throws {
        let cli = Self.shared
        let output = try json(try EmbedCommandTests.run(cli, ["infer", "sentiment", "--json"], input: "the movie was great\r\nterrible service\r\n"))
        let results = output["results"] as! [[String: Any]]
        #expect(results.map { $0["text"] as! String } == ["the movie was great", "terrible service"])
        let paired = try json(try EmbedCommandTests.run(cli, ["infer", "entailment", "--json"], input: "a cat\tan animal\r\nrain\twet\r\n"))
        let pairs = paired["results"] as! [[String: Any]]
        #expect(pairs.map { $0["text"] as! String } == ["a cat", "rain"])
        #expect(pairs.map { $0["text_pair"] as? String } == ["an animal", "wet"])
    }

    @Test func severalTasksAtOnceEqualSeparateRuns() throws {
        let cli = Self.shared
        let together = try json(try cli.run("infer", "--tasks", "sentiment,review,entailment", "one text", "a second, longer text", "--json"))
        let tasks = together["tasks"] as! [[String: Any]]
        #expect(tasks.count == 3)
        for (index, name) in ["sentiment", "review", "entailment"].enumerated() {
            let alone = try json(try cli.run("infer", name, "one text", "a second, longer text", "--json"))
            let a = (tasks[index]["results"] as! [[String: Any]]).map { $0["logits"] as! [Double] }
            let b = (alone["results"] as! [[String: Any]]).map { $0["logits"] as! [Double] }
            #expect(a.map(\.count) == b.map(\.count) && a.count == 2 && !a[0].isEmpty, "\(name)")
            for (x, y) in zip(a.joined(), b.joined()) { #expect(abs(x - y) < 1e-5, "\(name): \(x) vs \(y)") }
        }
    }

    @Test func textsComeFromStandardInput() throws {
        let cli = Self.shared
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "printf 'is it good?\\tyes\\nsecond line\\n' | QUIVER_HOME='\(cli.home)' '\(CLI.executable)' infer entailment --json"]
        let out = ChildPipe(.fromChild)
        process.standardOutput = out.childEnd
        try process.run()
        out.childStarted()
        let data = out.ownEnd.readDataToEndOfFile()
        process.waitUntilExit()
        let results = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["results"] as! [[String: Any]]
        #expect(results.count == 2)
        #expect(results[0]["text_pair"] as? String == "yes")
        #expect(results[1]["text"] as? String == "second line")
    }

    /// A batch is allocated whole (activations, and attention scores quadratic in the length): a batch size that
    /// cannot fit in memory is refused up front instead of crashing later.
    @Test func hugeBatchSizeIsRefused() throws {
        let result = try Self.shared.run("infer", "sentiment", "text", "--batch-size", "100000")
        #expect(result.status != 0)
        #expect(result.stderr.contains("--batch-size must be between 1 and 256"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    @Test(arguments: [
        (["fuse", "sentiment,missing", "--as", "x", "--from", "SAMPLES/review-fusion"], "no adapter or fusion named 'missing'"),
        (["fuse", "sentiment", "--as", "x", "--from", "SAMPLES/review-fusion"], "trained over 2 adapters"),
        (["fuse", "sentiment,entailment", "--as", "x", "--from", "SAMPLES/review-fusion"], "must be bottleneck adapters"),
        (["fuse", "sentiment,topic", "--as", "x", "--from", "SAMPLES/sentiment"], "missing adapter_fusion_config.json"),
        (["rm", "sentiment"], "fusion review:1 depends on this adapter"),
        (["infer", "nothing", "text"], "no adapter or fusion named 'nothing'"),
        (["infer", "--tasks", "sentiment,", "text"], "invalid task name"),
    ])
    func badInputIsRefused(_ arguments: [String], _ message: String) throws {
        let cli = Self.shared
        let result = cli.finish(try cli.start(arguments.map { $0.replacingOccurrences(of: "SAMPLES", with: cli.folder + "/samples") }))
        #expect(result.status != 0)
        #expect(result.stderr.hasPrefix("quiver: ") && result.stderr.contains(message), "\(result.stderr)")
        #expect(result.stderr.filter { $0 == "\n" }.count == 1)
    }
}
