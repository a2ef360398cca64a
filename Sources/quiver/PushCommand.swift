import ArgumentParser
import QuiverHub
import QuiverModel
import QuiverStore

struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Import an adapter folder into the registry as TASK[:VERSION], or publish a version to a remote.",
        discussion: """
            PATH is a folder saved by the `adapters` library (adapter_config.json + adapter.safetensors,
            optionally head_config.json + model_head.safetensors), a PEFT LoRA folder (adapter_config.json
            with peft_type + adapter_model.safetensors), or a folder written by `quiver pull --output`.
            Without VERSION the next number is used, unless the latest version has the same content.

            --to REMOTE publishes local versions instead (REMOTE is http(s)://HOST[:PORT]/NAMESPACE or a
            name saved with `quiver remote add`; without PATH and --to, QUIVER_REMOTE): one TASK[:VERSION],
            several, or --all (every task's latest version). Base models and fusion members go first; only
            blobs the remote lacks are sent. A version that fails is reported; the others are published.
            """)

    @Argument(help: ArgumentHelp("Task name and optional version; with --to, several may be given.", valueName: "TASK[:VERSION]"))
    var reference: String?
    @Argument(help: ArgumentHelp("The adapter folder to import (or, with --to, more versions to publish).", valueName: "PATH"))
    var rest: [String] = []
    @Flag(help: "With --to: publish the latest version of every local task.") var all = false
    @Option(name: .customLong("to"), help: ArgumentHelp("Publish to this remote instead of importing a folder.", valueName: "REMOTE"))
    var remote: String?
    @Option(help: "The base model the adapter was trained on (default: the only one, or the one recorded in a Quiver export).") var base: String?
    @Option(help: "A one-line description.") var description: String?
    @Flag(help: "Replace an existing version that has different content.") var force = false
    @OptionGroup var access: RemoteAccessOptions
    @OptionGroup var registry: RegistryOptions

    /// The folder to import: the second argument, when not publishing.
    private var path: String? { publishes ? nil : rest.first }
    private var publishes: Bool { remote != nil || all || (rest.isEmpty && RemoteResolution.defaultRemote() != nil) }

    func validate() throws {
        if all, reference != nil { throw ValidationError("give TASKs or --all, not both") }
        if !all, reference == nil { throw ValidationError("give a TASK[:VERSION] (or --all with --to)") }
        if all, remote == nil, RemoteResolution.defaultRemote() == nil { throw ValidationError("--all publishes: give --to REMOTE (or set QUIVER_REMOTE)") }
        if remote != nil, rest.contains(where: { $0.contains("/") }) {
            throw ValidationError("give either PATH (import a folder) or --to REMOTE (publish), not both")
        }
        if remote == nil, !all, rest.count > 1 { throw ValidationError("give one PATH to import a folder") }
        if rest.isEmpty, remote == nil, !all, RemoteResolution.defaultRemote() == nil {
            throw ValidationError("give PATH to import a folder, or --to REMOTE to publish (or set QUIVER_REMOTE)")
        }
        if publishes, base != nil || description != nil || force {
            throw ValidationError("--base, --description and --force apply to importing a PATH")
        }
    }

    func run() async throws {
        let registry = try self.registry.open()
        guard let path, let reference else {
            try await publish(all ? [] : try ([reference!] + rest).map(Reference.init(parsing:)), from: registry)
            return
        }
        let result = try registry.push(try Reference(parsing: reference), folder: path, baseName: base, description: description, force: force)
        let artifact = result.artifact
        let what = "\(artifact.task):\(artifact.version) (\(artifact.architecture), \(Console.count(artifact.parameters)) parameters + \(Console.count(artifact.headParameters)) head, \(Console.size(artifact.size)) → \(Console.size(artifact.storedSize)) stored)"
        switch result.outcome {
        case .stored: print("pushed \(what)")
        case .replaced: print("replaced \(what)")
        case .unchanged: print("unchanged: \(what) already holds this content")
        }
        for warning in result.warnings { Console.note("warning: \(warning)") }
        if let note = artifact.engineNote { Console.note("note: \(note)") }
    }

    private func publish(_ references: [Reference], from registry: Registry) async throws {
        let display = ProgressDisplay()
        defer { display.finish() }
        let (location, report) = try await DistributionClient.with(remote: remote, home: registry.home, token: access.token) { client in
            let push = RemotePush(registry: registry, client: client, observer: display.observer)
            return (client.location, all ? try await push.pushAll() : try await push.push(references))
        }
        display.finish()
        if let failure = report.failed.first, !all, references.count == 1 { throw failure.error }
        for item in report.published {
            print("\(item.upToDate ? "up to date:" : "pushed") \(item.repository):\(item.tags.joined(separator: ",")) (\(item.digest.short))")
        }
        let failure = Console.failed(report.failed, of: all ? "the local tasks" : "\(references.count)", to: "published")
        print("to \(location): \(report.blobsUploaded) blobs uploaded (\(Console.size(report.bytesUploaded))), \(report.blobsMounted) mounted, \(report.blobsPresent) already there")
        if let failure { throw failure }
    }
}
