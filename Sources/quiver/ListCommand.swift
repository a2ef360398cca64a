import ArgumentParser
import QuiverStore

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List adapter and fusion versions with their parameter counts.")

    @Flag(help: "Print one JSON array.") var json = false
    @OptionGroup var registry: RegistryOptions

    func run() throws {
        let entries = try registry.open().list()
        if json {
            try Console.printJSON(entries)
            return
        }
        if entries.isEmpty {
            Console.note("no adapters yet: add a base model with `quiver base add DIR`, then `quiver push TASK PATH`")
            return
        }
        print(Console.table(
            ["TASK", "VERSION", "KIND", "ARCHITECTURE", "PARAMETERS", "HEAD", "SIZE", "STORED", "BASE", "CREATED"],
            entries.map { entry in
                let version = entry.tags.isEmpty ? entry.version : "\(entry.version) (\(entry.tags.joined(separator: ",")))"
                let kind = entry.members.isEmpty ? entry.kind : "\(entry.kind)[\(entry.members.joined(separator: ","))]"
                return [entry.task, version, kind, entry.architecture, Console.count(entry.parameters), Console.count(entry.headParameters),
                        Console.size(entry.size), Console.size(entry.storedSize), entry.base, Console.date(entry.created)]
            }))
    }
}
