import ArgumentParser
import QuiverHub
import QuiverModel
import QuiverStore
import QuiverTensor

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List adapter and fusion versions with their parameter counts (or what a remote holds).")

    @Flag(help: "Print one JSON array.") var json = false
    @Option(help: ArgumentHelp("List a remote's repositories and tags instead (a URL or saved name).", valueName: "REMOTE"))
    var remote: String?
    @OptionGroup var access: RemoteAccessOptions
    @OptionGroup var registry: RegistryOptions

    func run() async throws {
        if let remote {
            try await listRemote(remote)
            return
        }
        let entries = try registry.open().list()
        if json {
            Console.printJSON(array: entries.lazy.map { $0.json })
            return
        }
        if entries.isEmpty {
            Console.note("no adapters yet: add a base model with `quiver base add DIR`, then `quiver push TASK PATH`")
            return
        }
        print(Console.table(
            ["TASK", "VERSION", "KIND", "ARCHITECTURE", "RUNS", "PARAMETERS", "HEAD", "SIZE", "STORED", "BASE", "CREATED"],
            entries.map { entry in
                let version = entry.tags.isEmpty ? entry.version : "\(entry.version) (\(entry.tags.joined(separator: ",")))"
                let kind = entry.members.isEmpty ? entry.kind.rawValue : "\(entry.kind.rawValue)[\(entry.members.joined(separator: ","))]"
                return [entry.task, version, kind, entry.architecture.rawValue, entry.runnable ? "yes" : "no", Console.count(entry.parameters),
                        Console.count(entry.headParameters), Console.size(entry.size), Console.size(entry.storedSize), entry.base,
                        Console.date(entry.created)]
            }))
    }

    private func listRemote(_ remote: String) async throws {
        let (location, entries) = try await DistributionClient.with(remote: remote, home: registry.homePath, token: access.token) { client in
            (client.location, try await RemoteCatalog(client: client).entries())
        }
        if json {
            try Console.printJSON(entries)
            return
        }
        if entries.isEmpty {
            Console.note("\(location) holds no repositories yet: publish one with `quiver push TASK --to \(remote)`")
            return
        }
        print(Console.table(
            ["REPOSITORY", "TAG", "KIND", "ARCHITECTURE", "PARAMETERS", "HEAD", "SIZE", "BASE", "DIGEST"],
            entries.map { entry in
                let name = entry.kind?.rawValue
                let kind = entry.members.map { "\(name ?? "?")[\($0.count)]" } ?? name ?? "-"
                return [entry.repository, entry.tag, kind, entry.architecture ?? "-", entry.parameters.map(Console.count) ?? "-",
                        entry.headParameters.map(Console.count) ?? "-", Console.size(entry.size), entry.base ?? "-",
                        String(entry.digest.dropFirst("sha256:".count).prefix(12))]
            }))
    }
}
