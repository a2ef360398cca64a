import ArgumentParser
import QuiverHub
import QuiverModel
import QuiverStore

struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Fetch a version from a remote into the registry, or write one out as a folder.",
        discussion: """
            --from REMOTE imports TASK[:VERSION] (or TASK@sha256:DIGEST) from a remote
            (http(s)://HOST[:PORT]/NAMESPACE or a name saved with `quiver remote add`), with its base model
            (unless --no-base) and a fusion's members; only missing blobs are downloaded and every digest
            is checked before anything enters the registry. --output DIR writes the version's files in
            their original layout. Both together pull, then write. Neither: pull from QUIVER_REMOTE.
            """)

    @Argument(help: ArgumentHelp("Task name and optional version (or @DIGEST with --from).", valueName: "TASK[:VERSION]")) var reference: String
    @Option(name: .customLong("from"), help: ArgumentHelp("The remote to pull from.", valueName: "REMOTE")) var remote: String?
    @Flag(name: .customLong("no-base"), help: "Do not fetch a missing base model (fail instead).") var noBase = false
    @Option(help: ArgumentHelp("The folder to write.", valueName: "DIR")) var output: String?
    @Flag(help: "Replace a local version with other content; overwrite files in DIR that hold other content.") var force = false
    @OptionGroup var access: RemoteAccessOptions
    @OptionGroup var registry: RegistryOptions

    /// Pull from a remote: asked for, or implied by QUIVER_REMOTE when there is nothing else to do.
    private var pullsFromRemote: Bool { remote != nil || output == nil }

    func validate() throws {
        if remote == nil, output == nil, RemoteResolution.defaultRemote() == nil {
            throw ValidationError("give --from REMOTE to pull into the registry, --output DIR to write files, or both (or set QUIVER_REMOTE)")
        }
        if noBase, !pullsFromRemote { throw ValidationError("--no-base applies to pulling --from a remote") }
        if reference.contains("@"), !pullsFromRemote { throw ValidationError("TASK@DIGEST applies to pulling --from a remote") }
    }

    func run() async throws {
        let registry = try self.registry.open()
        var local = reference.contains("@") ? nil : try Reference(parsing: reference)
        if pullsFromRemote {
            let report = try await fetch(into: registry)
            if let last = report.imported.last { local = try Reference(parsing: last.name) }
        }
        guard let output, let local else { return }
        let result = try registry.export(local, to: output, force: force)
        print("wrote \(result.artifact.task):\(result.artifact.version) to \(result.folder): \(result.files.joined(separator: ", "))")
    }

    private func fetch(into registry: Registry) async throws -> PullReport {
        let display = ProgressDisplay()
        defer { display.finish() }
        let (location, report) = try await DistributionClient.with(remote: remote, home: registry.home, token: access.token) { client in
            let pull = RemotePull(registry: registry, client: client, observer: display.observer)
            let parts = reference.split(separator: "@", maxSplits: 1).map(String.init)
            if parts.count == 2 {
                _ = try Digest(parsing: parts[1])
                return (client.location, try await pull.pull(task: parts[0], reference: parts[1], pullBase: !noBase, force: force))
            }
            return (client.location, try await pull.pull(try Reference(parsing: reference), pullBase: !noBase, force: force))
        }
        display.finish()
        for item in report.imported {
            let what = item.kind == .base ? "base model \(item.name)" : item.name
            print("\(item.outcome == .unchanged ? "unchanged:" : "pulled") \(what) (\(item.digest.short))")
        }
        var summary = "from \(location): \(report.blobsDownloaded) blobs downloaded (\(Console.size(report.bytesDownloaded)))"
        if report.bytesResumed > 0 { summary += ", \(Console.size(report.bytesResumed)) resumed" }
        print(summary + ", \(report.blobsReused) already here")
        return report
    }
}
