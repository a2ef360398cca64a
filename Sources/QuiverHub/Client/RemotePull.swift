import Foundation
import QuiverModel
import QuiverStore

/// What a pull did.
public struct PullReport: Sendable {
    /// What the pull did to the local registry for one artifact.
    public enum Outcome: String, Sendable {
        /// A new version, or a base model that was not here.
        case stored, added
        /// An existing version replaced by the remote's.
        case replaced
        /// The registry held it already.
        case unchanged

        init(_ push: Registry.PushOutcome) {
            switch push {
            case .stored: self = .stored
            case .replaced: self = .replaced
            case .unchanged: self = .unchanged
            }
        }
    }

    public struct Imported: Sendable, Equatable {
        /// The repository below the namespace (`TASK` or `base/NAME`).
        public var repository: String
        /// `TASK:VERSION` for adapters and fusions, the base model's name for base models.
        public var name: String
        public var kind: ManifestKind
        public var outcome: Outcome
        public var digest: Digest
    }

    /// Dependencies first, the artifact asked for last.
    public var imported: [Imported] = []
    public var blobsDownloaded = 0
    public var bytesDownloaded = 0
    /// Bytes taken from an interrupted earlier download instead of the network.
    public var bytesResumed = 0
    /// Layers not downloaded because the local registry holds their content.
    public var blobsReused = 0
}

/// Brings an artifact from a remote into the local registry: manifest, config, the base model and
/// fusion members it needs, then only the layers whose blobs the registry lacks. Manifests are
/// checked before anything they name is fetched; every byte is verified, and the whole pull —
/// dependencies included — is imported in one step (`Registry.importArtifacts`) once every download
/// has succeeded, exactly as received, so a failure anywhere leaves the registry as it was.
///
/// ```swift
/// let report = try await RemotePull(registry: registry, client: client).pull(Reference(parsing: "sentiment:2"))
/// ```
public struct RemotePull: Sendable {
    public let registry: Registry
    public let client: DistributionClient
    public let observer: TransferObserver?

    public init(registry: Registry, client: DistributionClient, observer: TransferObserver? = nil) {
        self.registry = registry
        self.client = client
        self.observer = observer
    }

    /// Pulls `TASK[:VERSION]`.
    ///
    /// - Parameters:
    ///   - pullBase: fetch the base model when the local registry lacks it; when false, its absence
    ///     is an error (nothing is downloaded).
    ///   - force: replace a local version that holds other content.
    public func pull(_ reference: Reference, pullBase: Bool = true, force: Bool = false) async throws -> PullReport {
        try await pull(task: reference.task, reference: reference.version ?? Reference.latest, version: reference.version, pullBase: pullBase, force: force)
    }

    /// Pulls a task by tag or by manifest digest (`sha256:…`).
    public func pull(task: String, reference: String, version: String? = nil, pullBase: Bool = true, force: Bool = false) async throws -> PullReport {
        try Reference.validateTask(task)
        var plan = Plan()
        try await add(repository: task, reference: reference, task: task, version: version, pullBase: pullBase, to: &plan, neededBy: nil)
        return try await run(plan, force: force)
    }

    // MARK: - Planning

    /// One artifact to import, with the layers to download for it.
    struct Step {
        var repository: String
        /// The tag or digest it was asked by.
        var reference: String
        var task: String?
        var version: String?
        var manifest: RemoteManifest
        var kind: ManifestKind
        var config: [UInt8]
        var layerCount: Int
        var missing: [Descriptor]
    }

    struct Plan {
        var steps: [Step] = []
        var planned = Set<Digest>()
        /// Artifacts asked for that the registry holds already (same manifest).
        var alreadyHere: [PullReport.Imported] = []
    }

    /// A local artifact or base model with exactly this manifest (and so the same content, task and
    /// version): nothing to fetch or import.
    private func localCopy(of digest: Digest, task: String?, version: String?) throws -> LocalCopy? {
        if let artifact = try registry.artifact(manifestDigest: digest.description),
           task == nil || artifact.task == task, version == nil || artifact.version == version
        {
            return LocalCopy(name: "\(artifact.task):\(artifact.version)", kind: ManifestKind(artifact.kind), digest: digest)
        }
        if task == nil, let base = try registry.baseModels().first(where: { $0.manifestDigest == digest.description }) {
            return LocalCopy(name: base.name, kind: .base, digest: digest)
        }
        return nil
    }

    struct LocalCopy {
        var name: String
        var kind: ManifestKind
        var digest: Digest

        func imported(repository: String) -> PullReport.Imported {
            PullReport.Imported(repository: repository, name: name, kind: kind, outcome: .unchanged, digest: digest)
        }
    }

    /// Fetches a manifest and its config, plans what it requires first, then the artifact itself.
    private func add(
        repository: String, reference: String, task: String?, version: String?, pullBase: Bool, to plan: inout Plan, neededBy: String?
    ) async throws {
        let full = client.location.repository(repository)
        let shown = reference.hasPrefix("sha256:") ? "\(repository)@\(reference)" : "\(repository):\(reference)"
        guard let manifest = try await client.manifest(of: full, reference: reference) else {
            let need = neededBy.map { " (needed by \($0))" } ?? ""
            throw QuiverError(.notFound, "\(client.location) has no \(shown)\(need)")
        }
        guard plan.planned.insert(manifest.digest).inserted else { return }
        if let local = try localCopy(of: manifest.digest, task: task, version: version) {
            plan.alreadyHere.append(local.imported(repository: repository))
            return
        }
        let decoded = try registry.checkIncoming(manifest: manifest.bytes, source: "manifest \(shown) from \(client.location)")
        guard let kind = ManifestKind(artifactType: decoded.artifactType) else {
            throw QuiverError(.unsupported, "\(shown) on \(client.location) is not a Quiver artifact (artifactType \"\(decoded.artifactType)\")")
        }
        let config = try await configBytes(of: decoded, in: full, shown: shown)
        for requirement in try registry.missingRequirements(ofManifest: manifest.bytes, config: config) {
            switch requirement {
            case .base(let name, let digest, let manifestDigest):
                guard pullBase else {
                    throw QuiverError(
                        .notFound,
                        "\(shown) needs base model \(name) (\(digest)), which the local registry lacks; pull without --no-base, or add it with `quiver base add`")
                }
                try await add(
                    repository: Registry.baseRepository(name), reference: manifestDigest.description, task: nil, version: nil,
                    pullBase: pullBase, to: &plan, neededBy: shown)
            case .member(let memberTask, let memberVersion, let manifestDigest):
                try await add(
                    repository: memberTask, reference: manifestDigest.description, task: memberTask, version: memberVersion,
                    pullBase: pullBase, to: &plan, neededBy: shown)
            }
        }
        let missing = try registry.missingBlobs(ofManifest: manifest.bytes)
        plan.steps.append(Step(
            repository: repository, reference: reference, task: kind == .base ? nil : task, version: version, manifest: manifest, kind: kind, config: config,
            layerCount: decoded.layers.count, missing: missing))
    }

    /// The config blob: from the local store when it is there (a digest can name any local blob, so
    /// the read is bounded by the size on disk), else from the remote; verified either way.
    private func configBytes(of manifest: Manifest, in repository: String, shown: String) async throws -> [UInt8] {
        let config = manifest.config, limit = client.options.configLimit
        guard config.size <= limit else {
            throw QuiverError(.invalidInput, "the config blob \(config.digest) of \(shown) is \(config.size) bytes, over the \(limit)-byte limit")
        }
        if registry.blobs.contains(config.digest) {
            do {
                return try registry.blobs.readStored(config.digest, limit: limit)
            } catch let error as QuiverError where error.kind == .invalidInput {
                throw QuiverError(.invalidInput, "\(shown) on \(client.location): its config \(error.message)")
            } catch let error as QuiverError where error.kind == .corrupt {
                // Damaged here: fetch it from the remote.
            }
        }
        return try await client.blob(config, in: repository, limit: limit)
    }

    // MARK: - Running

    private func run(_ plan: Plan, force: Bool) async throws -> PullReport {
        var report = PullReport()
        report.imported = plan.alreadyHere
        let folder = try TemporaryFolder(in: registry.blobs.temporaryDirectory, prefix: "pull")
        defer { folder.remove() }
        let session = folder.path

        // Every missing layer once, whichever artifacts share it.
        var downloads: [(step: Step, layer: Descriptor)] = []
        var seen = Set<Digest>()
        for step in plan.steps {
            report.blobsReused += step.layerCount - step.missing.count
            for layer in step.missing where seen.insert(layer.digest).inserted {
                downloads.append((step, layer))
            }
        }
        let jobs = downloads.map { step, layer in
            BlobDownload(
                client: client, repository: client.location.repository(step.repository), digest: layer.digest, size: layer.size,
                partPath: registry.blobs.downloadPath(of: layer.digest),
                destination: session + "/" + layer.digest.hex,
                progress: TransferProgress(
                    digest: layer.digest.description, label: "\(step.repository)/\(layer.annotations?[AnnotationKey.title] ?? "layer")",
                    observer: observer))
        }
        for step in plan.steps {
            observer?(.artifact(action: .pull, repository: step.repository, reference: step.version ?? step.reference))
        }
        let outcomes = try await mapConcurrently(jobs, limit: client.options.parallelTransfers) { try await $0.run() }
        for outcome in outcomes {
            report.blobsDownloaded += 1
            report.bytesDownloaded += outcome.transferred
            report.bytesResumed += outcome.resumed
        }

        let incoming = plan.steps.map { step in
            IncomingArtifact(manifest: step.manifest.bytes, config: step.config, task: step.task, tag: step.version)
        }
        let results = try registry.importArtifacts(incoming, force: force) { layer in
            let path = session + "/" + layer.digest.hex
            guard FileManager.default.fileExists(atPath: path) else {
                throw QuiverError(.corrupt, "layer \(layer.digest) was not downloaded")
            }
            return path
        }
        for (step, result) in zip(plan.steps, results) {
            report.imported.append(Self.imported(result, step: step))
        }
        return report
    }

    private static func imported(_ result: Registry.ImportOutcome, step: Step) -> PullReport.Imported {
        switch result {
        case .artifact(let push):
            return PullReport.Imported(
                repository: step.repository, name: "\(push.artifact.task):\(push.artifact.version)", kind: step.kind, outcome: PullReport.Outcome(push.outcome),
                digest: step.manifest.digest)
        case .base(let base):
            return PullReport.Imported(
                repository: step.repository, name: base.base.name, kind: .base, outcome: base.added ? .added : .unchanged, digest: step.manifest.digest)
        }
    }
}
