import Foundation
import Testing

/// RoBERTa, XLM-RoBERTa and DistilBERT from the command line, on the family fixtures of QuiverModelTests (tiny models
/// with byte-level BPE, Unigram and WordPiece tokenizers; scripts/fixtures/make_family_fixtures.py): `base add` says
/// the base runs, `push`, `infer` with a head, `embed`, `train` and `fuse --train` — whose results run — and `eval`.
@Suite struct EncoderFamilyCommandTests {
    /// Fixtures/families of QuiverModelTests, in this checkout.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("QuiverModelTests/Fixtures/families").path

    func json(_ result: CLI.Result) throws -> Any {
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    @Test(arguments: ["roberta", "xlm-roberta", "distilbert"])
    func everyCommandRunsOnTheFamily(_ family: String) throws {
        let cli = try CLI()
        defer { cli.cleanUp() }
        let added = try cli.run("base", "add", Self.fixtures + "/" + family, "--name", family)
        #expect(added.status == 0, "\(added.stderr)")
        let bases = try json(try cli.run("base", "list", "--json")) as! [[String: Any]]
        #expect(bases.first?["runnable"] as? Bool == true, "\(bases)")

        let pushed = try cli.run("push", "sentiment", Self.fixtures + "/adapters/\(family)-seq-bn-head")
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let inferred = try json(try cli.run("infer", "sentiment", "The movie was great!", "北京欢迎你 🎉", "--json")) as! [String: Any]
        let results = inferred["results"] as! [[String: Any]]
        #expect(results.count == 2 && results.allSatisfy { ($0["logits"] as? [Double])?.count == 3 })
        #expect(Set(results.compactMap { $0["label"] as? String }).isSubset(of: ["negative", "neutral", "positive"]))

        let embedded = try cli.run("embed", "a text", "another one")
        #expect(embedded.status == 0 && embedded.stdout.split(separator: "\n").count == 2, "\(embedded.stderr)")

        try cli.write(TrainingData.jsonLines(count: 12, seed: 3), to: "train.jsonl")
        let data = cli.folder + "/train.jsonl"
        for (task, arch) in [("trained-bn", "seq_bn"), ("trained-lora", "lora")] {
            let trained = try cli.run("train", task, "--data", data, "--arch", arch, "--epochs", "1", "--batch-size", "4", "--lr", "1e-3", "--max-length", "32")
            #expect(trained.status == 0, "\(family) \(arch): \(trained.stderr)")
            let ran = try cli.run("infer", task, "the film was excellent")
            #expect(ran.status == 0, "\(family) \(arch): \(ran.stderr)")
        }
        let secondAdapter = try cli.run("train", "trained-bn-2", "--data", data, "--epochs", "1", "--batch-size", "4", "--seed", "7", "--max-length", "32")
        #expect(secondAdapter.status == 0, "\(secondAdapter.stderr)")
        let fused = try cli.run("fuse", "trained-bn,trained-bn-2", "--as", "fused", "--train", data, "--epochs", "1", "--batch-size", "4", "--max-length", "32")
        #expect(fused.status == 0, "\(family): \(fused.stderr)")
        let evaluated = try cli.run("eval", "fused", "--data", data)
        #expect(evaluated.status == 0, "\(family): \(evaluated.stderr)")
    }
}
