import ArgumentParser
import QuiverStore

struct PullCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Write an adapter out of the registry as a folder in its original layout.")

    @Argument(help: ArgumentHelp("Task name and optional version.", valueName: "TASK[:VERSION]")) var reference: String
    @Option(help: ArgumentHelp("The folder to write.", valueName: "DIR")) var output: String
    @Flag(help: "Overwrite files in DIR that hold other content.") var force = false
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let reference = try Reference(parsing: reference)
        let result = try registry.open().export(reference, to: output, force: force)
        print("wrote \(result.artifact.task):\(result.artifact.version) to \(result.folder): \(result.files.joined(separator: ", "))")
    }
}
