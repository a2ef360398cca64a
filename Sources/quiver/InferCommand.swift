import ArgumentParser
import Foundation
import QuiverModel
import QuiverStore

struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Run an adapter or fusion (or several tasks at once) on texts.",
        discussion: """
            Texts come from the arguments or, when there are none, from standard input, one per line; a
            line with a tab is a text pair (text<TAB>text_pair). With --tasks A,B,C every argument is a
            text and the tasks run in one pass that shares the base model's work.
            """)

    @Argument(help: ArgumentHelp("TASK[:VERSION] then the texts (without --tasks).", valueName: "TASK[:VERSION] TEXT"))
    var arguments: [String] = []
    @Option(help: ArgumentHelp("Several tasks to run at once, comma-separated.", valueName: "A,B,C")) var tasks: String?
    @Option(help: "Longest input in tokens (default: the model's).") var maxLength: Int?
    @Option(help: "Most texts per pass (1...\(MultiTaskRunner.maximumSequencesPerPass); default: as many as --batch-tokens hold; with --tasks, texts × tasks).")
    var batchSize: Int?
    @Option(help: "Most tokens per pass, every task's copy counted (texts are packed without padding).")
    var batchTokens: Int = PassBudget.defaultTokens
    @Flag(help: "Merge a LoRA adapter into the base weights first (same results, faster for large inputs).") var mergeLora = false
    @Flag(help: "Print one JSON document.") var json = false
    @OptionGroup var registry: RegistryOptions

    func validate() throws {
        if tasks == nil, arguments.isEmpty { throw ValidationError("give a TASK, or --tasks A,B,C") }
        if let maxLength, maxLength < 2 { throw ValidationError("--max-length must be at least 2") }
        if let batchSize, !(1...MultiTaskRunner.maximumSequencesPerPass).contains(batchSize) {
            throw ValidationError("--batch-size must be between 1 and \(MultiTaskRunner.maximumSequencesPerPass)")
        }
        if batchTokens < 1 { throw ValidationError("--batch-tokens must be at least 1") }
    }

    func run() throws {
        let references = try (tasks.map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) } ?? [arguments[0]])
            .map { try Reference(parsing: $0) }
        let textArguments = tasks == nil ? Array(arguments.dropFirst()) : arguments
        let (texts, pairs) = try TextInput.read(arguments: textArguments)
        var (base, loaded) = try registry.open().loadTasks(references)
        if mergeLora {
            guard loaded.count == 1, case .adapter(let adapter as LoRAAdapter) = loaded[0].composition else {
                throw QuiverError(.invalidInput, "--merge-lora needs exactly one LoRA task")
            }
            base = try BaseModel(name: base.name, encoder: try base.encoder.merging(adapter), tokenizer: base.tokenizer)
            loaded = [TaskModel(name: loaded[0].name, composition: .base, head: loaded[0].head)]
        }
        let runner = MultiTaskRunner(base: base, batchSize: batchSize, maxLength: maxLength, tokensPerPass: batchTokens)
        let results = try runner.predict(loaded, texts: texts, pairs: pairs)
        if json {
            if tasks == nil { try Console.printJSON(results[0]) } else { try Console.printJSON(["tasks": results]) }
            return
        }
        for result in results {
            if results.count > 1 { print("== \(result.task)") }
            for prediction in result.results {
                let text = prediction.textPair.map { "\(prediction.text) / \($0)" } ?? prediction.text
                if let label = prediction.label {
                    print("\(label)\t\(String(format: "%.3f", prediction.score ?? 0))\t\(text)")
                } else if let labels = prediction.labels {
                    print("\(labels.joined(separator: ","))\t\(text)")
                } else if let embedding = prediction.embedding {
                    let norm = embedding.reduce(0) { $0 + $1 * $1 }.squareRoot()
                    print("[\(embedding.prefix(4).map { String(format: "%.4f", $0) }.joined(separator: ", ")), …] norm \(String(format: "%.3f", norm))\t\(text)")
                }
            }
        }
    }
}

/// Texts from arguments, or standard input one per line (a tab separates a text pair).
enum TextInput {
    static func read(arguments: [String]) throws -> (texts: [String], pairs: [String?]?) {
        if arguments.isEmpty {
            let lines = try standardInputLines()
            guard !lines.isEmpty else { throw QuiverError(.invalidInput, "no text given: pass texts as arguments or on standard input") }
            return split(lines)
        }
        return (arguments, nil)
    }

    /// Standard input's lines, without their `\n` or `\r\n` (an empty line is an empty text; a final
    /// newline does not start another). Split on bytes: as a `String`, "\r\n" is one character, which
    /// a split on "\n" does not see.
    static func standardInputLines() throws -> [String] {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        guard String(data: data, encoding: .utf8) != nil else { throw QuiverError(.invalidInput, "standard input is not valid UTF-8") }
        var lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
        }
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    private static func split(_ lines: [String]) -> (texts: [String], pairs: [String?]?) {
        guard lines.contains(where: { $0.contains("\t") }) else { return (lines, nil) }
        var texts: [String] = [], pairs: [String?] = []
        for line in lines {
            let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
            texts.append(String(parts[0]))
            pairs.append(parts.count > 1 ? String(parts[1]) : nil)
        }
        return (texts, pairs)
    }
}
