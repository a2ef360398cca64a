import ArgumentParser
import QuiverHub
import QuiverModel
import QuiverStore

struct PullCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pull",
        abstract: "Fetch versions from a remote into the registry, or write one out as a folder.",
        discussion: """
            --from REMOTE imports TASK[:VERSION] (or TASK@sha256:DIGEST) from a remote
            (http(s)://HOST[:PORT]/NAMESPACE or a name saved with `quiver remote add`), with its base model
            (unless --no-base) and a fusion's members; only missing blobs are downloaded and every digest
            is checked before anything enters the registry. Several TASKs, or --all (every task's latest
            version), are pulled in one pipeline: each stands alone, a failure is reported and the others
            complete. --output DIR writes the version's files in their original layout. Both together
            pull, then write. Neither: pull from QUIVER_REMOTE.
            """)

    @Argument(help: ArgumentHelp("Task names and optional versions (or @DIGEST with --from).", valueName: "TASK[:VERSION]")) var references: [String] = []
    @Flag(help: "Pull the latest version of every task the remote holds.") var all = false
    @Option(name: .customLong("from"), help: ArgumentHelp("The remote to pull from.", valueName: "REMOTE")) var remote: String?
    @Flag(name: .customLong("no-base"), help: "Do not fetch a missing base model (fail instead).") var noBase = false
    @Option(help: ArgumentHelp("The folder to write.", valueName: "DIR")) var output: String?
    @Flag(help: "Replace a local version with other content; overwrite files in DIR that hold other content.") var force = false
    @OptionGroup var access: RemoteAccessOptions
    @OptionGroup var registry: RegistryOptions

    /// Pull from a remote: asked for, or implied by QUIVER_REMOTE when there is nothing else to do.
    private var pullsFromRemote: Bool { remote != nil || output == nil }

    func validate() throws {
        if all, !references.isEmpty { throw ValidationError("give TASKs or --all, not both") }
        if !all, references.isEmpty { throw ValidationError("give a TASK[:VERSION] to pull (or --all)") }
        if output != nil, all || references.count > 1 { throw ValidationError("--output DIR writes one version: give one TASK") }
        if remote == nil, output == nil, RemoteResolution.defaultRemote() == nil {
            throw ValidationError("give --from REMOTE to pull into the registry, --output DIR to write files, or both (or set QUIVER_REMOTE)")
        }
        if all, !pullsFromRemote { throw ValidationError("--all applies to pulling --from a remote") }
        if noBase, !pullsFromRemote { throw ValidationError("--no-base applies to pulling --from a remote") }
        if references.contains(where: { $0.contains("@") }), !pullsFromRemote { throw ValidationError("TASK@DIGEST applies to pulling --from a remote") }
    }

    func run() async throws {
        let registry = try self.registry.open()
        if pullsFromRemote {
            let report = try await fetch(into: registry)
            guard let output, let last = report.imported.last else { return }
            try write(try Reference(parsing: last.name), from: registry, to: output)
        } else if let output {
            try write(try Reference(parsing: references[0]), from: registry, to: output)
        }
    }

    private func write(_ local: Reference, from registry: Registry, to output: String) throws {
        let result = try registry.export(local, to: output, force: force)
        print("wrote \(result.artifact.task):\(result.artifact.version) to \(result.folder): \(result.files.joined(separator: ", "))")
    }

    /// The requests named on the command line.
    private func requests() throws -> [PullRequest] {
        try references.map { reference in
            let parts = reference.split(separator: "@", maxSplits: 1).map(String.init)
            if parts.count == 2 {
                _ = try Digest(parsing: parts[1])
                return PullRequest(task: parts[0], reference: parts[1])
            }
            return PullRequest(try Reference(parsing: reference))
        }
    }

    private func fetch(into registry: Registry) async throws -> PullReport {
        let display = ProgressDisplay()
        defer { display.finish() }
        let requests = all ? [] : try requests()
        let (location, report) = try await DistributionClient.with(remote: remote, home: registry.home, token: access.token) { client in
            let pull = RemotePull(registry: registry, client: client, observer: display.observer)
            return (client.location, all ? try await pull.pullAll(pullBase: !noBase, force: force) : try await pull.pull(requests, pullBase: !noBase, force: force))
        }
        display.finish()
        if let failure = report.failed.first, !all, requests.count == 1 { throw failure.error }
        for item in report.imported {
            let what = item.kind == .base ? "base model \(item.name)" : item.name
            print("\(item.outcome == .unchanged ? "unchanged:" : "pulled") \(what) (\(item.digest.short))")
        }
        let failure = Console.failed(report.failed, of: all ? "the remote's tasks" : "\(requests.count)", to: "pulled")
        var summary = "from \(location): \(report.blobsDownloaded) blobs downloaded (\(Console.size(report.bytesDownloaded)))"
        if report.bytesResumed > 0 { summary += ", \(Console.size(report.bytesResumed)) resumed" }
        print(summary + ", \(report.blobsReused) already here")
        if let failure { throw failure }
        return report
    }
}
