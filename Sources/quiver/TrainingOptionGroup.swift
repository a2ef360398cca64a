import ArgumentParser
import QuiverModel
import QuiverRuntime
import QuiverStore

/// The options `train` and `fuse --train` share: evaluation data and hyper-parameters.
struct TrainingOptionGroup: ParsableArguments {
    @Option(help: ArgumentHelp("Evaluation data, scored after each epoch; the best epoch is kept.", valueName: "DEV"))
    var eval: String?
    // The defaults are the `adapters` library's (its trainer with Hugging Face's `TrainingArguments` defaults).
    @Option(help: "Passes over the training data.") var epochs: Int = 3
    @Option(name: .customLong("lr"), help: ArgumentHelp("Peak learning rate (adapters usually train well at 1e-4 to 1e-3).", valueName: "X"))
    var learningRate: Float = 5e-5
    @Option(help: "Examples per optimizer step.") var batchSize: Int = 8
    @Option(help: "Longest input in tokens, special tokens included; longer texts are truncated.") var maxLength: Int = 128
    @Option(help: "Seed of the initial weights, the batch order and dropout: the same seed, the same result.")
    var seed: UInt64 = 42
    @Option(help: ArgumentHelp("AdamW weight decay (not applied to biases and LayerNorms).", valueName: "X"))
    var weightDecay: Float = 0
    @Option(help: ArgumentHelp("Fraction of the steps spent warming the learning rate up from 0.", valueName: "X"))
    var warmupRatio: Double = 0
    @Option(help: ArgumentHelp("Clip gradients to this global norm (0: no clipping).", valueName: "X"))
    var maxGradNorm: Double = 1
    @Option(help: "A one-line description.") var description: String?
    @Flag(help: "Replace an existing version that has different content.") var force = false

    var options: TrainingOptions {
        TrainingOptions(
            epochs: epochs, learningRate: learningRate, batchSize: batchSize, maxLength: maxLength,
            seed: seed, weightDecay: weightDecay, warmupRatio: warmupRatio, maxGradientNorm: maxGradNorm)
    }

    // Values out of range are refused by `TrainingOptions.validate()` when the run starts, as one line
    // naming the option, before any file is read.
}

/// The closing lines of a training command: where the result went and the kept epoch's figures.
enum TrainingSummary {
    static func lines(_ outcome: TrainingOutcome, what: String) -> [String] {
        let artifact = outcome.push.artifact
        let verb = switch outcome.push.outcome {
        case .stored: "stored"
        case .replaced: "replaced"
        case .unchanged: "unchanged (already stored)"
        }
        let best = outcome.report.best
        var kept = "epoch \(outcome.report.bestEpoch)/\(outcome.report.epochs.count), train loss \(String(format: "%.4f", best.trainLoss))"
        if let accuracy = best.devAccuracy, let f1 = best.devMacroF1 {
            kept += ", dev accuracy \(String(format: "%.4f", accuracy)), macro-F1 \(String(format: "%.4f", f1))"
        }
        return [
            "\(verb) \(artifact.task):\(artifact.version) (\(what), \(Console.count(artifact.parameters)) parameters + \(Console.count(artifact.headParameters)) head)",
            "kept \(kept)",
        ]
    }
}
