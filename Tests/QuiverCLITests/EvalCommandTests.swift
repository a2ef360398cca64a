import Foundation
import Testing

/// `quiver eval` end to end on the sample models: the JSON report, agreement with `infer`, refusals.
@Suite struct EvalCommandTests {
    /// The sample base with sentiment (negative/positive), entailment (a LoRA, pairs), paraphrase-peft
    /// (no head), a multi-label copy of sentiment and the review fusion; shared, only read.
    static let shared: CLI = try! prepared()

    static func prepared() throws -> CLI {
        let cli = try CLI()
        let samples = cli.folder + "/samples"
        try cli.run("sample", samples)
        try cli.run("base", "add", samples + "/tiny-bert")
        for name in ["sentiment", "topic", "entailment", "paraphrase-peft"] { try cli.run("push", name, samples + "/" + name) }
        try cli.run("fuse", "sentiment,topic", "--as", "review", "--from", samples + "/review-fusion")
        // The sentiment adapter again with its head marked multi-label.
        let tags = samples + "/tags"
        try FileManager.default.copyItem(atPath: samples + "/sentiment", toPath: tags)
        let config = try String(contentsOfFile: tags + "/head_config.json", encoding: .utf8)
        try config.replacingOccurrences(of: "\"classification\"", with: "\"multilabel_classification\"")
            .write(toFile: tags + "/head_config.json", atomically: true, encoding: .utf8)
        let pushed = try cli.run("push", "tags", tags)
        #expect(pushed.status == 0, "\(pushed.stderr)")
        return cli
    }

    static let texts = [
        "the movie was great", "terrible service", "an utterly forgettable plot with wooden acting", "loved it",
        "i would not recommend this place to anyone", "fine", "the staff were friendly and the food arrived quickly",
        "what a waste of two hours", "brilliant", "it broke after a week and support never answered",
        "solid, dependable, does what it says", "meh", "the best concert of the year", "awful",
    ]
    static var labels: [String] { texts.indices.map { $0 % 3 == 0 ? "negative" : "positive" } }

    func write(_ text: String, name: String) throws -> String {
        let path = Self.shared.folder + "/\(UUID().uuidString)-" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func json(_ result: CLI.Result) throws -> [String: Any] {
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
    }

    static func jsonLine(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test func accuracyAgreesWithInfer() throws {
        let cli = Self.shared
        let lines = try zip(Self.texts, Self.labels).map { try Self.jsonLine(["text": $0, "label": $1]) }
        let data = try write(lines.joined(separator: "\n") + "\n", name: "dev.jsonl")
        let report = try json(try cli.run("eval", "sentiment", "--data", data, "--json", "--batch-size", "3"))

        #expect(Set(report.keys) == ["task", "accuracy", "macro_f1", "per_label", "examples", "confusion"])
        #expect(report["task"] as? String == "sentiment:1")
        #expect(report["examples"] as? Int == Self.texts.count)
        let inferred = try json(try cli.run(["infer", "sentiment", "--json"] + Self.texts))
        let predicted = (inferred["results"] as! [[String: Any]]).map { $0["label"] as! String }
        let correct = zip(predicted, Self.labels).filter { $0 == $1 }.count
        #expect(abs(report["accuracy"] as! Double - Double(correct) / Double(Self.texts.count)) < 1e-12)

        let perLabel = report["per_label"] as! [String: [String: Any]]
        #expect(Set(perLabel.keys) == ["negative", "positive"])
        for (label, figures) in perLabel {
            #expect(Set(figures.keys) == ["support", "predicted", "true_positives", "precision", "recall", "f1"])
            #expect(figures["support"] as? Int == Self.labels.filter { $0 == label }.count)
            #expect(figures["predicted"] as? Int == predicted.filter { $0 == label }.count)
            #expect(figures["true_positives"] as? Int == zip(predicted, Self.labels).filter { $0 == label && $1 == label }.count)
        }
        let confusion = report["confusion"] as! [String: [String: Int]]
        #expect(confusion["negative"]!.values.reduce(0, +) + confusion["positive"]!.values.reduce(0, +) == Self.texts.count)
        #expect(confusion["negative"]!["negative"]! + confusion["positive"]!["positive"]! == correct)
        let f1s = perLabel.values.filter { ($0["support"] as! Int) + ($0["predicted"] as! Int) > 0 }.map { $0["f1"] as! Double }
        #expect(abs(report["macro_f1"] as! Double - f1s.reduce(0, +) / Double(f1s.count)) < 1e-12)

        // The same rows as CSV (with quoting), and with integer labels, give the same report.
        let csvRows = zip(Self.texts, Self.labels).map { "\"\($0.replacingOccurrences(of: "\"", with: "\"\""))\",\($1)" }
        let csv = try write("text,label\r\n" + csvRows.joined(separator: "\r\n"), name: "dev.csv")
        let fromCSV = try json(try cli.run("eval", "sentiment", "--data", csv, "--json"))
        #expect(fromCSV["accuracy"] as? Double == report["accuracy"] as? Double)
        #expect(fromCSV["macro_f1"] as? Double == report["macro_f1"] as? Double)
        let integers = try zip(Self.texts, Self.labels).map { try Self.jsonLine(["text": $0, "label": $1 == "negative" ? 0 : 1]) }
        let fromIntegers = try json(try cli.run("eval", "sentiment", "--data", try write(integers.joined(separator: "\n"), name: "dev.jsonl"), "--json"))
        #expect(fromIntegers["accuracy"] as? Double == report["accuracy"] as? Double)
    }

    @Test func pairsAndFusions() throws {
        let cli = Self.shared
        let rows = ["text,text_pair,label", "is it raining?,the streets are wet,entailment", "a cat sat,\"no, a dog\",contradiction",
                    "he left,she stayed,neutral"]
        let report = try json(try cli.run("eval", "entailment", "--data", try write(rows.joined(separator: "\n"), name: "nli.csv"), "--json"))
        #expect(report["examples"] as? Int == 3)
        #expect(Set((report["per_label"] as! [String: Any]).keys) == ["entailment", "neutral", "contradiction"])

        let review = try write("{\"text\": \"good\", \"label\": \"good\"}\n{\"text\": \"so-so\", \"label\": \"mixed\"}\n", name: "review.jsonl")
        let fused = try json(try cli.run("eval", "review", "--data", review, "--json"))
        #expect(fused["task"] as? String == "review:1")
        #expect(fused["examples"] as? Int == 2)
    }

    @Test func tableForPeople() throws {
        let data = try write("text,label\ngreat,positive\nbad,negative\n", name: "d.csv")
        let result = try Self.shared.run("eval", "sentiment:1", "--data", data)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("accuracy  0."))
        #expect(result.stdout.contains("macro-F1  0."))
        #expect(result.stdout.contains("label     support  predicted  correct  precision  recall  f1"))
    }

    @Test(arguments: [
        (["sentiment", "--data", "DATA(text,label\na,positive\n\nb,neutral\n)"],
         "d.csv:4: unknown label \"neutral\": sentiment:1 has the labels \"negative\", \"positive\""),
        (["sentiment", "--data", "DATA(text,label\na,0\nb,2\n)"], "d.csv:3: unknown label 2: sentiment:1 has the labels"),
        (["sentiment", "--data", "DATA(text,label\na,positive\n\"b,negative\n)"], "d.csv:3: unterminated quote"),
        (["sentiment", "--data", "DATA(text,label\n)"], "d.csv: no examples (only a header row)"),
        (["sentiment", "--data", "/nonexistent/d.csv"], "/nonexistent/d.csv: no such file"),
        (["paraphrase-peft", "--data", "DATA(text,label\na,x\n)"], "paraphrase-peft:1 has no prediction head"),
        (["tags", "--data", "DATA(text,label\na,positive\n)"], "tags:1 has a multi-label head"),
        (["missing", "--data", "DATA(text,label\na,x\n)"], "no adapter or fusion named 'missing'"),
    ])
    func badInputIsRefused(_ arguments: [String], _ message: String) throws {
        let cli = Self.shared
        var path = ""
        let resolved = try arguments.map { argument -> String in
            guard argument.hasPrefix("DATA(") else { return argument }
            path = try write(String(argument.dropFirst(5).dropLast()), name: "d.csv")
            return path
        }
        let result = cli.finish(try cli.start(["eval"] + resolved))
        #expect(result.status != 0)
        let expected = path.isEmpty ? message : message.replacingOccurrences(of: "d.csv", with: path)
        #expect(result.stderr.hasPrefix("quiver: ") && result.stderr.contains(expected), "\(result.stderr)")
        #expect(result.stderr.filter { $0 == "\n" }.count == 1)
        #expect(result.stdout.isEmpty)
    }
}
