import ArgumentParser
import Foundation
import QuiverModel
import QuiverStore

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Score an adapter or fusion on labelled data: accuracy, macro-F1, per-label counts.",
        discussion: """
            DATA is JSON Lines ({"text": ..., "text_pair": ..., "label": ...} per line) or CSV/TSV with a \
            header naming the text, label and optional text_pair columns (see docs/data.md). Every \
            label must be one of the head's; labels written as integers are read as indices into the \
            head's labels when they are not its names.
            """)

    @Argument(help: ArgumentHelp("The adapter or fusion to score.", valueName: "TASK[:VERSION]")) var task: String
    @Option(help: ArgumentHelp("The labelled examples (.jsonl, .json, .csv or .tsv).", valueName: "FILE")) var data: String
    @Option(help: "Longest input in tokens (default: the model's).") var maxLength: Int?
    @Option(help: "Most texts per pass (default: as many as 8,192 tokens hold, up to 256).") var batchSize: Int?
    @Flag(help: "Print one JSON document.") var json = false
    @OptionGroup var registry: RegistryOptions

    func validate() throws {
        if let maxLength, maxLength < 2 { throw ValidationError("--max-length must be at least 2") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        let reference = try Reference(parsing: task)
        let (base, tasks) = try registry.open().loadTasks([reference])
        let dataset = try Dataset.load(path: data)
        let evaluator = Evaluator(runner: MultiTaskRunner(base: base, batchSize: batchSize, maxLength: maxLength))
        let report = try evaluator.evaluate(tasks[0], on: dataset)
        if json {
            try Console.printJSON(report)
            return
        }
        let metrics = report.metrics
        print("\(report.task) on \(dataset.source) (\(dataset.format), \(Console.count(dataset.count)) examples, \(dataset.digest.description.prefix(19)))")
        print("accuracy  \(Self.figure(metrics.accuracy))  (\(Console.count(metrics.confusion.correct)) correct)")
        print("macro-F1  \(Self.figure(metrics.macroF1))")
        print()
        let rows = metrics.labels.enumerated().map { index, label in
            let figures = metrics.perLabel[index]
            return [label, String(figures.support), String(figures.predicted), String(figures.truePositives),
                    Self.figure(figures.precision), Self.figure(figures.recall), Self.figure(figures.f1)]
        }
        print(Console.table(["label", "support", "predicted", "correct", "precision", "recall", "f1"], rows))
        guard metrics.labels.count <= 12 else { return }
        print()
        print("confusion (rows: gold, columns: predicted)")
        let matrix = metrics.labels.enumerated().map { index, label in [label] + metrics.confusion.counts[index].map(String.init) }
        print(Console.table([""] + metrics.labels, matrix))
    }

    static func figure(_ value: Double) -> String { String(format: "%.4f", value) }
}
