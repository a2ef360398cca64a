import ArgumentParser
import Foundation
import QuiverModel
import QuiverRuntime
import QuiverStore

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Show one adapter or fusion version.")

    @Argument(help: ArgumentHelp("Task name and optional version.", valueName: "TASK[:VERSION]")) var reference: String
    @Flag(help: "Print JSON.") var json = false
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let detail = try registry.open().show(try Reference(parsing: reference))
        if json {
            try Console.printJSON(detail)
            return
        }
        let s = detail.summary
        var lines = [
            "\(s.task):\(s.version)\(s.tags.isEmpty ? "" : " (\(s.tags.joined(separator: ", ")))")",
            "  kind:          \(s.kind)",
            "  architecture:  \(s.architecture) (\(detail.format) layout)",
            "  parameters:    \(Console.count(s.parameters)) adapter + \(Console.count(s.headParameters)) head",
            "  size:          \(Console.size(s.size)) (\(Console.size(s.storedSize)) stored)",
            "  base:          \(s.base) (\(s.baseDigest))",
            "  runs here:     \(s.engineNote.map { "no — \($0)" } ?? "yes")",
            "  digest:        \(s.digest)",
            "  created:       \(Console.date(s.created))",
        ]
        if !s.description.isEmpty { lines.append("  description:   \(s.description)") }
        if !s.labels.isEmpty { lines.append("  labels:        \(s.labels.joined(separator: ", "))") }
        if !s.members.isEmpty { lines.append("  members:       \(s.members.joined(separator: ", "))") }
        if !detail.usedBy.isEmpty { lines.append("  used by:       \(detail.usedBy.joined(separator: ", "))") }
        if let training = TrainingMetadata.decode(fromMetadata: detail.metadata) {
            lines += Self.trainingLines(training)
        } else if detail.metadata != "{}" {
            lines.append("  metadata:      \(detail.metadata)")
        }
        lines.append("  files:")
        for file in detail.files {
            lines.append("    \(file.name)  \(Console.size(file.size)) → \(Console.size(file.storedSize)) (\(file.encoding))  \(file.digest)")
        }
        print(lines.joined(separator: "\n"))
    }

    /// The training record of a version trained here: recipe, hyper-parameters, data digests, one line per epoch.
    static func trainingLines(_ t: TrainingMetadata) -> [String] {
        let h = t.hyperparameters
        var recipe = t.architecture.rawValue
        if let factor = t.reductionFactor { recipe += ", reduction factor \(factor)" }
        if let rank = t.rank { recipe += ", rank \(rank), alpha \(Self.number(t.alpha ?? Double(rank)))" }
        if let members = t.members {
            recipe += " over \(members.joined(separator: ", "))\(t.unfreezeAdapters == true ? " (members trained too)" : " (members frozen)")"
        }
        var lines = [
            "  training:      \(recipe)",
            "    options:     epochs \(h.epochs), lr \(Self.number(h.learningRate)), batch size \(h.batchSize), max length \(h.maxLength), "
                + "seed \(h.seed), weight decay \(Self.number(h.weightDecay)), warm-up \(Self.number(h.warmupRatio)), "
                + "max grad norm \(Self.number(h.maxGradNorm)), \(h.optimizer) + \(h.schedule) schedule",
            "    train data:  \(t.train.file) (\(Console.count(t.train.examples)) examples, \(t.train.digest))",
        ]
        if let dev = t.dev { lines.append("    eval data:   \(dev.file) (\(Console.count(dev.examples)) examples, \(dev.digest))") }
        lines.append("    base:        \(t.base.name) (\(t.base.digest))")
        for record in t.epochs {
            var line = "    epoch \(record.epoch):\(String(repeating: " ", count: max(1, 6 - String(record.epoch).count)))loss \(String(format: "%.4f", record.trainLoss))"
            if let accuracy = record.devAccuracy, let f1 = record.devMacroF1 {
                line += ", dev accuracy \(String(format: "%.4f", accuracy)), macro-F1 \(String(format: "%.4f", f1))"
            }
            if record.epoch == t.bestEpoch { line += "  (kept)" }
            lines.append(line)
        }
        return lines
    }

    /// `0.0001`, `0.1`, `1`: short and exact enough for hyper-parameters.
    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%g", value)
    }
}
