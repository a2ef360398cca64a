import ArgumentParser
import Foundation
import QuiverHub
import QuiverStore

struct RemoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote",
        abstract: "Manage saved remotes (any OCI registry, or quiver serve).",
        discussion: """
            A remote is http(s)://HOST[:PORT]/NAMESPACE; a task lives there in repository NAMESPACE/TASK,
            a version is a tag, base models are in NAMESPACE/base/NAME. Saved remotes are kept in the
            registry folder (remotes.json) without credentials: give those with --token or QUIVER_TOKEN,
            or QUIVER_USERNAME and QUIVER_PASSWORD. QUIVER_REMOTE names the default remote.
            """,
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Save a remote under a short name.")
        @Argument(help: "The name to use in --to, --from and --remote.") var name: String
        @Argument(help: ArgumentHelp("The remote's URL.", valueName: "http(s)://HOST[:PORT]/NAMESPACE")) var url: String
        @OptionGroup var registry: RegistryOptions

        func run() throws {
            let location = try SavedRemotes(home: registry.homePath).add(name: name, url: url)
            print("added remote \(name): \(location)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List saved remotes (* marks QUIVER_REMOTE).")
        @Flag(help: "Print one JSON array.") var json = false
        @OptionGroup var registry: RegistryOptions

        func run() throws {
            let remotes = try SavedRemotes(home: registry.homePath).all()
            let defaultRemote = RemoteResolution.defaultRemote()
            if json {
                try Console.printJSON(remotes.map { ["name": $0.name, "url": $0.location.description] })
                return
            }
            if remotes.isEmpty {
                Console.note("no saved remotes: add one with `quiver remote add NAME http(s)://HOST[:PORT]/NAMESPACE`")
                return
            }
            print(Console.table(["NAME", "URL"], remotes.map { [($0.name == defaultRemote ? "* " : "  ") + $0.name, $0.location.description] }))
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Forget a saved remote.")
        @Argument var name: String
        @OptionGroup var registry: RegistryOptions

        func run() throws {
            try SavedRemotes(home: registry.homePath).remove(name: name)
            print("removed remote \(name)")
        }
    }
}

/// The credentials option shared by the commands that talk to a remote.
struct RemoteAccessOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Bearer token for the remote (default: $QUIVER_TOKEN).", valueName: "TOKEN"))
    var token: String?
}

extension RegistryOptions {
    /// The registry folder, without opening it.
    var homePath: String { home ?? Registry.defaultHome() }
}
