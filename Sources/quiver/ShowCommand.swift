import ArgumentParser
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
            "  digest:        \(s.digest)",
            "  created:       \(Console.date(s.created))",
        ]
        if !s.description.isEmpty { lines.append("  description:   \(s.description)") }
        if !s.labels.isEmpty { lines.append("  labels:        \(s.labels.joined(separator: ", "))") }
        if !s.members.isEmpty { lines.append("  members:       \(s.members.joined(separator: ", "))") }
        if !detail.usedBy.isEmpty { lines.append("  used by:       \(detail.usedBy.joined(separator: ", "))") }
        if detail.metadata != "{}" { lines.append("  metadata:      \(detail.metadata)") }
        lines.append("  files:")
        for file in detail.files {
            lines.append("    \(file.name)  \(Console.size(file.size)) → \(Console.size(file.storedSize)) (\(file.encoding))  \(file.digest)")
        }
        print(lines.joined(separator: "\n"))
    }
}
