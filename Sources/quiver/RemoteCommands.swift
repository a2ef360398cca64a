import ArgumentParser
import Foundation
import QuiverHub
import QuiverModel
import QuiverStore

struct RemoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remote",
        abstract: "Manage saved remotes (any OCI registry, or quiver serve).",
        discussion: """
            A remote is http(s)://HOST[:PORT]/NAMESPACE; a task lives there in repository NAMESPACE/TASK,
            a version is a tag, base models are in NAMESPACE/base/NAME. Saved remotes are kept in the
            registry folder (remotes.json) without credentials. Credentials belong to one registry: --token
            and a URL's user:password to the remote of that command line; QUIVER_TOKEN, QUIVER_USERNAME and
            QUIVER_PASSWORD to the registry QUIVER_REMOTE names (same scheme, host and port), which is also
            the default remote. They never go over plain http to another machine unless the remote was
            saved with --insecure.
            """,
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Save a remote under a short name.")
        @Argument(help: "The name to use in --to, --from and --remote.") var name: String
        @Argument(help: ArgumentHelp("The remote's URL.", valueName: "http(s)://HOST[:PORT]/NAMESPACE")) var url: String
        @Flag(help: "Let credentials go to this remote over plain http (a network you trust).") var insecure = false
        @OptionGroup var registry: RegistryOptions

        func run() throws {
            let location = try SavedRemotes(home: registry.homePath).add(name: name, url: url, insecure: insecure)
            print("added remote \(name): \(location)\(insecure ? " (insecure: credentials may go over plain http)" : "")")
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
                try Console.printJSON(remotes.map { RemoteSummary(name: $0.name, url: $0.location.description, insecure: $0.location.insecure) })
                return
            }
            if remotes.isEmpty {
                Console.note("no saved remotes: add one with `quiver remote add NAME http(s)://HOST[:PORT]/NAMESPACE`")
                return
            }
            print(Console.table(["NAME", "URL"], remotes.map {
                [($0.name == defaultRemote ? "* " : "  ") + $0.name, $0.location.description + ($0.location.insecure ? " (insecure)" : "")]
            }))
        }
    }

    /// One saved remote in `remote list --json`.
    struct RemoteSummary: Encodable {
        var name: String
        var url: String
        var insecure: Bool
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
    @Option(help: ArgumentHelp(
        "Bearer token for the remote of this command (default: $QUIVER_TOKEN when QUIVER_REMOTE names the same registry).", valueName: "TOKEN"))
    var token: String?
}

extension RegistryOptions {
    /// The registry folder, without opening it.
    var homePath: String { home ?? DefaultHome.path() }
}
