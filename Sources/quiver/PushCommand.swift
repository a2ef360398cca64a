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

            --to REMOTE publishes a local version instead (REMOTE is http(s)://HOST[:PORT]/NAMESPACE or a
            name saved with `quiver remote add`; without PATH and --to, QUIVER_REMOTE). Its base model and,
            for a fusion, its members go first; only blobs the remote lacks are sent.
            """)

    @Argument(help: ArgumentHelp("Task name and optional version.", valueName: "TASK[:VERSION]")) var reference: String
    @Argument(help: ArgumentHelp("The adapter folder to import.", valueName: "PATH")) var path: String?
    @Option(name: .customLong("to"), help: ArgumentHelp("Publish to this remote instead of importing a folder.", valueName: "REMOTE"))
    var remote: String?
    @Option(help: "The base model the adapter was trained on (default: the only one, or the one recorded in a Quiver export).") var base: String?
    @Option(help: "A one-line description.") var description: String?
    @Flag(help: "Replace an existing version that has different content.") var force = false
    @OptionGroup var access: RemoteAccessOptions
    @OptionGroup var registry: RegistryOptions

    func validate() throws {
        if path != nil, remote != nil { throw ValidationError("give either PATH (import a folder) or --to REMOTE (publish), not both") }
        if path == nil, remote == nil, RemoteResolution.defaultRemote() == nil {
            throw ValidationError("give PATH to import a folder, or --to REMOTE to publish (or set QUIVER_REMOTE)")
        }
        if path == nil, base != nil || description != nil || force {
            throw ValidationError("--base, --description and --force apply to importing a PATH")
        }
    }

    func run() async throws {
        let reference = try Reference(parsing: reference)
        let registry = try self.registry.open()
        guard let path else {
            try await publish(reference, from: registry)
            return
        }
        let result = try registry.push(reference, folder: path, baseName: base, description: description, force: force)
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

    private func publish(_ reference: Reference, from registry: Registry) async throws {
        let display = ProgressDisplay()
        defer { display.finish() }
        let (location, report) = try await DistributionClient.with(remote: remote, home: registry.home, token: access.token) { client in
            (client.location, try await RemotePush(registry: registry, client: client, observer: display.observer).push(reference))
        }
        display.finish()
        for item in report.published {
            print("\(item.upToDate ? "up to date:" : "pushed") \(item.repository):\(item.tags.joined(separator: ",")) (\(item.digest.short))")
        }
        print("to \(location): \(report.blobsUploaded) blobs uploaded (\(Console.size(report.bytesUploaded))), \(report.blobsMounted) mounted, \(report.blobsPresent) already there")
    }
}
