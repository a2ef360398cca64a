import ArgumentParser
import QuiverModel
import QuiverStore

struct SampleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sample",
        abstract: "Write a small BERT-shaped base model and adapters with random weights (for demos and tests).",
        discussion: """
            The folders use the Hugging Face, `adapters` and PEFT layouts, so the real import paths run on them. Weights are \
            random, made deterministically from --seed. With --word-features, only `word-bert/`: a base model whose \
            features carry word identity (large word embeddings, attention that averages the words into every position), \
            on which adapters can learn word-based synthetic tasks.
            """)

    @Argument(help: ArgumentHelp("The folder to write into.", valueName: "DIR")) var folder: String
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Flag(help: "Write only word-bert/, a base model whose features carry the input's words (for training demos).")
    var wordFeatures = false

    func run() throws {
        if wordFeatures {
            let path = folder + "/word-bert"
            try SampleFolders.writeWordFeatureBase(to: path, seed: seed)
            print(path)
            return
        }
        let written = try SampleFolders.write(to: folder, seed: seed)
        for path in written { print(path) }
    }
}
