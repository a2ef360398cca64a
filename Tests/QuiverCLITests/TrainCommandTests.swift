import Foundation
import QuiverTestServers
import Testing

/// `quiver train` and `quiver fuse --train` end to end on the sample base (the result runs in `infer` and `eval`,
/// `show` prints its record, a seed repeats a run bit for bit), and refusals of bad input before any training, each
/// one line on stderr with the registry left unchanged. Serialized: the refusals compare the registry's listing.
@Suite(.serialized) struct TrainCommandTests {
    /// The sample base with the sentiment and topic adapters (bottleneck, fusable) and the entailment LoRA.
    static let shared: CLI = try! prepared()

    static func prepared() throws -> CLI {
        let cli = try CLI()
        let samples = cli.folder + "/samples"
        try cli.run("sample", samples)
        try cli.run("base", "add", samples + "/tiny-bert")
        for name in ["sentiment", "topic", "entailment"] { try cli.run("push", name, samples + "/" + name) }
        try cli.write(TrainingData.jsonLines(count: 16, seed: 1), to: "train.jsonl")
        try cli.write(TrainingData.jsonLines(count: 8, seed: 2), to: "dev.jsonl")
        return cli
    }

    /// `DATA(...)` in an argument becomes a file with that text; `TRAIN` / `DEV` the shared good files.
    @Test(arguments: [
        (["train", "t", "--data", "/nonexistent/train.jsonl"], "/nonexistent/train.jsonl: no such file"),
        (["train", "t", "--data", "DATA({\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\"}\n)"], "d.jsonl:2: missing \"label\""),
        (["train", "t", "--data", "DATA({\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\", \"label\": \"x\"}\n)"],
         "every example has the label \"x\"; a classifier needs at least two labels"),
        (["train", "t", "--data", "TRAIN", "--eval", "DATA({\"text\": \"a\", \"label\": \"positive\"}\n{\"text\": \"b\", \"label\": \"meh\"}\n)"],
         "d.jsonl:2: unknown label \"meh\": t has the labels \"negative\", \"positive\""),
        (["train", "t", "--data", "TRAIN", "--arch", "adapter"], "unknown architecture 'adapter': choose seq_bn, double_seq_bn, lora"),
        (["train", "t", "--data", "TRAIN", "--rank", "4"], "--rank and --alpha are for lora, not seq_bn"),
        (["train", "t", "--data", "TRAIN", "--arch", "lora", "--reduction-factor", "8"], "--reduction-factor is for bottleneck adapters"),
        (["train", "t", "--data", "TRAIN", "--reduction-factor", "7"], "reduction factor 7 must divide the hidden size 128"),
        (["train", "t", "--data", "TRAIN", "--epochs", "0"], "epochs must be at least 1 (got 0)"),
        (["train", "t", "--data", "TRAIN", "--batch-size", "0"], "batch size must be at least 1 (got 0)"),
        (["train", "t", "--data", "TRAIN", "--lr", "0"], "learning rate must be positive"),
        (["train", "t", "--data", "TRAIN", "--max-length", "4096"], "max length 4096 is over the 128 tokens of base model 'tiny-bert'"),
        (["train", "t", "--data", "TRAIN", "--base", "nothing"], "nothing"),
        (["train", "sentiment:1", "--data", "TRAIN"], "sentiment:1 already exists"),
        (["fuse", "sentiment,entailment", "--as", "f", "--train", "TRAIN"], "must be bottleneck adapters"),
        (["fuse", "sentiment", "--as", "f", "--train", "TRAIN"], "a fusion needs at least two member adapters"),
        (["fuse", "sentiment,topic", "--as", "f", "--train", "TRAIN", "--fusion", "average"], "unknown fusion 'average': choose dynamic or static"),
        (["fuse", "sentiment,missing", "--as", "f", "--train", "TRAIN"], "no adapter or fusion named 'missing'"),
    ])
    func badInputIsRefused(_ arguments: [String], _ message: String) throws {
        let cli = Self.shared
        var path = ""
        let resolved = try arguments.map { argument -> String in
            switch argument {
            case "TRAIN": return cli.folder + "/train.jsonl"
            case "DEV": return cli.folder + "/dev.jsonl"
            case _ where argument.hasPrefix("DATA("):
                path = cli.folder + "/\(UUID().uuidString)-d.jsonl"
                try String(argument.dropFirst(5).dropLast()).write(toFile: path, atomically: true, encoding: .utf8)
                return path
            default: return argument
            }
        }
        let before = try cli.run("list", "--json").stdout
        let result = cli.finish(try cli.start(resolved))
        #expect(result.status != 0)
        let expected = path.isEmpty ? message : message.replacingOccurrences(of: "d.jsonl", with: path)
        #expect(result.stderr.hasPrefix("quiver: ") && result.stderr.contains(expected), "\(result.stderr)")
        #expect(result.stderr.filter { $0 == "\n" }.count == 1, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        #expect(try cli.run("list", "--json").stdout == before, "the registry is unchanged")
    }

    static let fast = ["--epochs", "2", "--batch-size", "8", "--max-length", "16", "--lr", "1e-3"]

    func json(_ result: CLI.Result) throws -> [String: Any] {
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
    }

    func fileDigests(_ reference: String) throws -> [String: String] {
        let show = try json(try Self.shared.run("show", reference, "--json"))
        let files = show["files"] as! [[String: Any]]
        return Dictionary(uniqueKeysWithValues: files.map { ($0["name"] as! String, $0["digest"] as! String) })
    }

    @Test func trainedAdapterRunsInInferAndEvalAndShowsItsRecord() throws {
        let cli = Self.shared
        let train = cli.folder + "/train.jsonl", dev = cli.folder + "/dev.jsonl"
        let result = try cli.run(["train", "mood:1", "--data", train, "--eval", dev] + Self.fast)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("stored mood:1 (seq_bn adapter, "), "\(result.stdout)")
        #expect(result.stdout.contains("kept epoch "))
        // Not a terminal: plain lines, one per epoch at least.
        #expect(result.stderr.contains("epoch 1: loss ") && result.stderr.contains("epoch 2: loss "), "\(result.stderr)")
        #expect(!result.stderr.contains("\u{1B}["))

        let inferred = try json(try cli.run("infer", "mood", "great movie", "boring story", "--json"))
        let labels = (inferred["results"] as! [[String: Any]]).map { $0["label"] as? String }
        #expect(labels.allSatisfy { $0 == "negative" || $0 == "positive" })

        let report = try json(try cli.run("eval", "mood", "--data", dev, "--json"))
        #expect(report["examples"] as? Int == 8)
        let show = try json(try cli.run("show", "mood", "--json"))
        let metadata = try JSONSerialization.jsonObject(with: Data((show["metadata"] as! String).utf8)) as! [String: Any]
        let training = metadata["training"] as! [String: Any]
        #expect(training["architecture"] as? String == "seq_bn")
        #expect(training["labels"] as? [String] == ["negative", "positive"])
        let trainFile = training["train"] as! [String: Any]
        let bytes = try Data(contentsOf: URL(fileURLWithPath: train))
        #expect(trainFile["digest"] as? String == "sha256:" + Self.sha256(bytes))
        #expect(trainFile["examples"] as? Int == 16)
        let epochs = training["epochs"] as! [[String: Any]]
        #expect(epochs.count == 2)
        let kept = epochs[(training["best_epoch"] as! Int) - 1]
        // The loop's evaluation (training network) and eval's (inference runner) agree on the kept weights.
        #expect(kept["dev_accuracy"] as? Double == report["accuracy"] as? Double)
        #expect((training["hyperparameters"] as! [String: Any])["batch_size"] as? Int == 8)

        let text = try cli.run("show", "mood").stdout
        #expect(text.contains("  training:      seq_bn, reduction factor 16"), "\(text)")
        #expect(text.contains("    train data:  train.jsonl (16 examples, sha256:"))
        #expect(text.contains("(kept)"))
    }

    @Test func theSameSeedGivesTheSameWeights() throws {
        let cli = Self.shared
        let train = cli.folder + "/train.jsonl"
        for (version, seed) in [("1", "5"), ("2", "5"), ("3", "6")] {
            let result = try cli.run(["train", "twin:\(version)", "--data", train, "--arch", "lora", "--seed", seed] + Self.fast)
            #expect(result.status == 0, "\(result.stderr)")
        }
        let first = try fileDigests("twin:1"), second = try fileDigests("twin:2"), other = try fileDigests("twin:3")
        #expect(first["adapter.safetensors"] != nil)
        #expect(first == second)
        #expect(first["adapter.safetensors"] != other["adapter.safetensors"])
        // The record holds no timings: the same run again, without a version, is the same content.
        let again = try cli.run(["train", "twin", "--data", train, "--arch", "lora", "--seed", "6"] + Self.fast)
        #expect(again.stdout.hasPrefix("unchanged (already stored) twin:3"), "\(again.stdout)")
    }

    @Test func fusionTrainsOverFrozenMembers() throws {
        let cli = Self.shared
        let train = cli.folder + "/train.jsonl", dev = cli.folder + "/dev.jsonl"
        let before = try fileDigests("sentiment")
        let result = try cli.run(["fuse", "sentiment,topic", "--as", "blend", "--train", train, "--eval", dev] + Self.fast)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("stored blend:1 (dynamic fusion of 2 adapters"), "\(result.stdout)")
        let show = try cli.run("show", "blend").stdout
        #expect(show.contains("  members:       sentiment:1, topic:1"), "\(show)")
        #expect(show.contains("  training:      dynamic over sentiment:1, topic:1 (members frozen)"), "\(show)")
        let report = try json(try cli.run("eval", "blend", "--data", dev, "--json"))
        #expect(report["examples"] as? Int == 8)
        #expect(try fileDigests("sentiment") == before, "frozen members are not changed")

        let unfrozen = try cli.run(["fuse", "sentiment,topic", "--as", "blend2", "--train", train, "--fusion", "static", "--unfreeze-adapters"] + Self.fast)
        #expect(unfrozen.status == 0, "\(unfrozen.stderr)")
        #expect(try fileDigests("sentiment") == before)
        #expect(try cli.run("show", "blend2-sentiment").status == 0, "the trained member is stored as its own adapter")
        #expect(try json(try cli.run("eval", "blend2", "--data", dev, "--json"))["examples"] as? Int == 8)
    }

    @Test func helpOfTheTrainingCommands() throws {
        for command in [["train"], ["fuse"], ["eval"]] {
            let result = try Self.shared.run(command + ["--help"])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.contains("USAGE: quiver \(command[0])"), "\(result.stdout)")
            #expect(result.stderr.isEmpty)
        }
        #expect(try Self.shared.run("train", "--help").stdout.contains("--reduction-factor"))
    }

    static func sha256(_ data: Data) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        let input = ChildPipe(.toChild), output = ChildPipe(.fromChild)
        process.standardInput = input.childEnd
        process.standardOutput = output.childEnd
        try! process.run()
        input.childStarted()
        output.childStarted()
        input.ownEnd.write(data)
        try! input.ownEnd.close()
        let text = String(decoding: output.ownEnd.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return String(text.prefix(64))
    }
}

/// Small labelled data the sample vocabulary covers: positive sentences use a positive word, negative ones a
/// negative word.
enum TrainingData {
    static func jsonLines(count: Int, seed: UInt64) -> String {
        let positive = ["great", "excellent", "love", "happy", "best"], negative = ["terrible", "bad", "boring", "hate", "worst"]
        let fillers = ["the", "movie", "film", "story", "was", "this", "service", "product"]
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        func draw(_ bound: Int) -> Int {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return Int(state % UInt64(bound))
        }
        return (0..<count).map { index in
            let isPositive = index % 2 == 0
            let pool = isPositive ? positive : negative
            var words = (0..<3).map { _ in fillers[draw(fillers.count)] }
            words.insert(pool[draw(pool.count)], at: draw(4))
            return "{\"text\": \"\(words.joined(separator: " "))\", \"label\": \"\(isPositive ? "positive" : "negative")\"}\n"
        }.joined()
    }
}

extension CLI {
    func write(_ text: String, to name: String) throws {
        try text.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
    }
}
