import ArgumentParser
import QuiverModel
import QuiverRuntime
import QuiverStore

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train an adapter and a new head on labelled data, and store it.",
        discussion: """
            DATA is JSON Lines or CSV with `text`, optional `text_pair` and `label`. The labels are the \
            training data's, sorted. With --eval the dev data is scored after every epoch and the epoch with \
            the best macro-F1 (then accuracy) is kept; without it, the last. The metrics per epoch, the \
            hyper-parameters and the data files' sha256 digests are stored with the version (`quiver show`). \
            The base model is frozen; AdamW with a linear warm-up and decay; gradients clipped to norm 1.
            """)

    @Argument(help: ArgumentHelp("The new task's name and optional version.", valueName: "TASK[:VERSION]")) var task: String
    @Option(help: ArgumentHelp("Training data (.jsonl or .csv).", valueName: "TRAIN")) var data: String
    @Option(help: "The base model (default: the registry's only one).") var base: String?
    @Option(help: ArgumentHelp("seq_bn, double_seq_bn or lora.", valueName: "ARCH")) var arch: String = "seq_bn"
    @Option(help: ArgumentHelp("Bottleneck adapters: hidden size / bottleneck size (default 16).", valueName: "N"))
    var reductionFactor: Int?
    @Option(help: ArgumentHelp("LoRA rank (default 8).", valueName: "R")) var rank: Int?
    @Option(help: ArgumentHelp("LoRA alpha; the update is scaled by alpha / rank (default 8).", valueName: "A")) var alpha: Double?
    @OptionGroup var training: TrainingOptionGroup
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let reference = try Reference(parsing: task)
        let recipe = try AdapterRecipe(parsing: arch, reductionFactor: reductionFactor, rank: rank, alpha: alpha)
        let display = TrainingProgressDisplay()
        let outcome = try registry.open().trainAdapter(
            reference, recipe: recipe, data: TrainingDataFiles(train: data, dev: training.eval), base: base,
            options: training.options, description: training.description,
            force: training.force, progress: display.handle)
        print(TrainingSummary.lines(outcome, what: "\(recipe.architecture.rawValue) adapter").joined(separator: "\n"))
    }
}
