import ArgumentParser
import QuiverStore

struct PushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Import an adapter folder into the registry as TASK[:VERSION].",
        discussion: """
            PATH is a folder saved by the `adapters` library (adapter_config.json + adapter.safetensors,
            optionally head_config.json + model_head.safetensors), a PEFT LoRA folder (adapter_config.json
            with peft_type + adapter_model.safetensors), or a folder written by `quiver pull --output`.
            Without VERSION the next number is used, unless the latest version has the same content.
            """)

    @Argument(help: ArgumentHelp("Task name and optional version.", valueName: "TASK[:VERSION]")) var reference: String
    @Argument(help: ArgumentHelp("The adapter folder.", valueName: "PATH")) var path: String
    @Option(help: "The base model the adapter was trained on (default: the only one, or the one recorded in a Quiver export).") var base: String?
    @Option(help: "A one-line description.") var description: String?
    @Flag(help: "Replace an existing version that has different content.") var force = false
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let reference = try Reference(parsing: reference)
        let result = try registry.open().push(reference, folder: path, baseName: base, description: description, force: force)
        let artifact = result.artifact
        let what = "\(artifact.task):\(artifact.version) (\(artifact.architecture), \(Console.count(artifact.parameters)) parameters + \(Console.count(artifact.headParameters)) head, \(Console.size(artifact.size)) → \(Console.size(artifact.storedSize)) stored)"
        switch result.outcome {
        case .stored: print("pushed \(what)")
        case .replaced: print("replaced \(what)")
        case .unchanged: print("unchanged: \(what) already holds this content")
        }
    }
}
