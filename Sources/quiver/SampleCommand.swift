import ArgumentParser
import QuiverStore

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Write a small BERT-shaped base model and adapters with random weights (for demos and tests).",
        discussion: "The folders use the Hugging Face, `adapters` and PEFT layouts, so the real import paths run on them. Weights are random, made deterministically from --seed.")

    @Argument(help: ArgumentHelp("The folder to write into.", valueName: "DIR")) var folder: String
    @Option(help: "Random seed.") var seed: UInt64 = 42

    func run() throws {
        let written = try SampleFolders.write(to: folder, seed: seed)
        for path in written { print(path) }
    }
}
