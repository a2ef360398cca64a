import ArgumentParser
import QuiverStore

struct FuseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuse",
        abstract: "Store an AdapterFusion over adapters in the registry as a new task.",
        discussion: """
            --from DIR imports a fusion trained elsewhere by the `adapters` library
            (adapter_fusion_config.json + model_adapter_fusion.safetensors, optionally head_config.json +
            model_head.safetensors). Members are given in the order the fusion was trained with and are
            recorded by digest.
            """)

    @Argument(help: ArgumentHelp("The member adapters, comma-separated.", valueName: "A,B,C")) var members: String
    @Option(name: .customLong("as"), help: ArgumentHelp("The fusion's task name and optional version.", valueName: "TASK[:VERSION]")) var target: String
    @Option(help: ArgumentHelp("A fusion folder saved by the `adapters` library.", valueName: "DIR")) var from: String
    @Option(help: "A one-line description.") var description: String?
    @Flag(help: "Replace an existing version that has different content.") var force = false
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let memberReferences = try members.split(separator: ",", omittingEmptySubsequences: false).map { try Reference(parsing: String($0)) }
        let result = try registry.open().importFusion(
            members: memberReferences, as: try Reference(parsing: target), folder: from, description: description, force: force)
        let artifact = result.artifact
        let what = "\(artifact.task):\(artifact.version) (\(artifact.architecture) fusion of \(memberReferences.count) adapters, \(Console.count(artifact.parameters)) parameters + \(Console.count(artifact.headParameters)) head)"
        switch result.outcome {
        case .stored: print("fused \(what)")
        case .replaced: print("replaced \(what)")
        case .unchanged: print("unchanged: \(what) already holds this content")
        }
    }
}
