import Foundation
import Testing

/// `quiver train` and `quiver fuse --train`: refusals of bad input before any training, each one line on stderr
/// with the registry left unchanged.
@Suite struct TrainCommandTests {
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
