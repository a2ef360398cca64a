import ArgumentParser
import QuiverModel
import QuiverRuntime
import QuiverStore

struct FuseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuse",
        abstract: "Store an AdapterFusion over adapters in the registry as a new task.",
        discussion: """
            --from DIR imports a fusion trained elsewhere by the `adapters` library \
            (adapter_fusion_config.json + model_adapter_fusion.safetensors, optionally head_config.json + \
            model_head.safetensors). Members are given in the order the fusion was trained with and are \
            recorded by digest.

            --train DATA learns the fusion here: the fusion layers and a new head are trained on DATA \
            (JSON Lines or CSV, labels from the data) with the members frozen (--unfreeze-adapters trains \
            them too and stores each as a new adapter FUSION-MEMBER), evaluated on --eval after each epoch keeping the best, and stored with the training \
            record. The training options are those of `quiver train`.
            """)

    @Argument(help: ArgumentHelp("The member adapters, comma-separated.", valueName: "A,B,C")) var members: String
    @Option(name: .customLong("as"), help: ArgumentHelp("The fusion's task name and optional version.", valueName: "TASK[:VERSION]")) var target: String
    @Option(help: ArgumentHelp("A fusion folder saved by the `adapters` library.", valueName: "DIR")) var from: String?
    @Option(help: ArgumentHelp("Training data: learn the fusion here (.jsonl or .csv).", valueName: "TRAIN")) var train: String?
    @Option(help: ArgumentHelp("With --train: dynamic (query, key, value) or static (query, key).", valueName: "KIND"))
    var fusion: String = "dynamic"
    @Flag(help: "With --train: train the member adapters too.")
    var unfreezeAdapters = false
    @OptionGroup var training: TrainingOptionGroup
    @OptionGroup var registry: RegistryOptions

    func validate() throws {
        guard (from == nil) != (train == nil) else {
            throw ValidationError(from == nil ? "give --from DIR (import) or --train DATA (learn here)" : "give either --from or --train, not both")
        }
        if from != nil, training.eval != nil || unfreezeAdapters || fusion != "dynamic" {
            throw ValidationError("--eval, --fusion and --unfreeze-adapters go with --train")
        }
    }

    func run() throws {
        let memberReferences = try members.split(separator: ",", omittingEmptySubsequences: false).map { try Reference(parsing: String($0)) }
        let reference = try Reference(parsing: target)
        if let train {
            let recipe = try FusionRecipe(parsing: fusion, unfreezeMembers: unfreezeAdapters)
            let display = TrainingProgressDisplay()
            let outcome = try registry.open().trainFusion(
                members: memberReferences, as: reference, recipe: recipe, data: TrainingDataFiles(train: train, dev: training.eval),
                options: training.options, description: training.description, force: training.force,
                progress: display.handle)
            print(TrainingSummary.lines(outcome, what: "\(recipe.kind.rawValue) fusion of \(memberReferences.count) adapters").joined(separator: "\n"))
            return
        }
        let result = try registry.open().importFusion(
            members: memberReferences, as: reference, folder: from!, description: training.description, force: training.force)
        let artifact = result.artifact
        let what = "\(artifact.task):\(artifact.version) (\(artifact.architecture) fusion of \(memberReferences.count) adapters, \(Console.count(artifact.parameters)) parameters + \(Console.count(artifact.headParameters)) head)"
        switch result.outcome {
        case .stored: print("fused \(what)")
        case .replaced: print("replaced \(what)")
        case .unchanged: print("unchanged: \(what) already holds this content")
        }
    }
}
