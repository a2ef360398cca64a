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

    /// Dependencies before what needs them, in the order they entered the registry.
    public var imported: [Imported] = []
    /// Requests that did not come: nothing of them (or of what only they needed) is in the registry.
    public var failed: [TransferFailure] = []
    public var blobsDownloaded = 0
    public var bytesDownloaded = 0
    /// Bytes taken from an interrupted earlier download instead of the network.
    public var bytesResumed = 0
    /// Layers not downloaded because the local registry holds their content.
    public var blobsReused = 0
}

/// One thing to pull: a task by tag or by manifest digest.
public struct PullRequest: Sendable, Hashable {
    public var task: String
    /// A tag (a version, `latest`) or a manifest digest (`sha256:…`).
    public var reference: String
    /// The version the reference must be (asked as `TASK:VERSION`).
    public var version: String?

    /// `TASK[:VERSION]` (`latest` without a version).
    public init(_ reference: Reference) {
        self.init(task: reference.task, reference: reference.version ?? Reference.latest, version: reference.version)
    }

    public init(task: String, reference: String, version: String? = nil) {
        self.task = task
        self.reference = reference
        self.version = version
    }

    /// `TASK:TAG` or `TASK@DIGEST`, for messages.
    public var shown: String { Self.shown(task, reference) }

    /// `REPOSITORY:TAG` or `REPOSITORY@DIGEST`, for messages.
    static func shown(_ repository: String, _ reference: String) -> String {
        reference.hasPrefix("sha256:") ? "\(repository)@\(reference)" : "\(repository):\(reference)"
    }
}

/// Brings artifacts from a remote into the local registry: manifests, configs, the base models and
/// fusion members they need, then only the layers whose blobs the registry lacks. Manifests are
/// checked before anything they name is fetched, and every byte is verified before it is imported
/// (`Registry.importArtifacts`), exactly as received.
///
/// Many requests run as one pipeline (`PullPipeline`): manifests fetched concurrently, layers over a
/// bounded pool of connections, and what has arrived imported in batches — one catalog transaction
/// each — while the rest downloads. Each request stands alone: one that fails leaves nothing of
/// itself (or of what only it needed) in the registry, and the others complete.
///
/// ```swift
/// let report = try await RemotePull(registry: registry, client: client).pull(Reference(parsing: "sentiment:2"))
/// ```
public struct RemotePull: Sendable {
    public let registry: Registry
    public let client: DistributionClient
    public let observer: TransferObserver?
    /// How many manifests (with their configs) are fetched at once while planning.
    static let parallelManifests = 8

    public init(registry: Registry, client: DistributionClient, observer: TransferObserver? = nil) {
        self.registry = registry
        self.client = client
        self.observer = observer
    }

    /// Pulls `TASK[:VERSION]`; a failure is thrown, and leaves the registry as it was.
    ///
    /// - Parameters:
    ///   - pullBase: fetch the base model when the local registry lacks it; when false, its absence
    ///     is an error (nothing is downloaded).
    ///   - force: replace a local version that holds other content.
    public func pull(_ reference: Reference, pullBase: Bool = true, force: Bool = false) async throws -> PullReport {
        let report = try await pull([PullRequest(reference)], pullBase: pullBase, force: force)
        if let failure = report.failed.first { throw failure.error }
        return report
    }

    /// Pulls every request in one pipeline. Requests that fail are listed in `failed`; the others
    /// are imported. Throws only when the pull as a whole cannot go on (the local store fails).
    public func pull(_ requests: [PullRequest], pullBase: Bool = true, force: Bool = false) async throws -> PullReport {
        var plan = PullPlan()
        try await plan.add(requests, pulling: self, pullBase: pullBase)
        return try await PullPipeline(pull: self, plan: plan, force: force).run()
    }

    /// Pulls the `latest` tag of every task repository under the remote's namespace (with the base
    /// models and fusion members they need).
    public func pullAll(pullBase: Bool = true, force: Bool = false) async throws -> PullReport {
        let tasks = try await client.catalog().compactMap { client.location.relative($0) }
            .filter { !$0.hasPrefix(Registry.baseRepository("")) && (try? Reference.validateTask($0)) != nil }
            .sorted()
        return try await pull(tasks.map { PullRequest(task: $0, reference: Reference.latest) }, pullBase: pullBase, force: force)
    }

    // MARK: - Fetching one artifact

    /// What a manifest turned out to be.
    enum Fetched {
        /// The local registry has exactly this manifest.
        case here(PullReport.Imported)
        case artifact(PullPlan.Step, requirements: [Registry.Requirement])
    }

    /// Fetches a manifest and, unless the registry holds it, checks it and fetches its config.
    func fetch(_ want: PullPlan.Want) async throws -> Fetched {
        let full = client.location.repository(want.repository)
        let shown = PullRequest.shown(want.repository, want.reference)
        guard let manifest = try await client.manifest(of: full, reference: want.reference) else {
            let need = want.neededBy.map { " (needed by \($0))" } ?? ""
            throw QuiverError(.notFound, "\(client.location) has no \(shown)\(need)")
        }
        if let local = try localCopy(of: manifest.digest, task: want.task, version: want.version) {
            return .here(PullReport.Imported(repository: want.repository, name: local.name, kind: local.kind, outcome: .unchanged, digest: manifest.digest))
        }
        let decoded = try registry.checkIncoming(manifest: manifest.bytes, source: "manifest \(shown) from \(client.location)")
        guard let kind = ManifestKind(artifactType: decoded.artifactType) else {
            throw QuiverError(.unsupported, "\(shown) on \(client.location) is not a Quiver artifact (artifactType \"\(decoded.artifactType)\")")
        }
        let config = try await configBytes(of: decoded, in: full, shown: shown)
        let requirements = try registry.missingRequirements(ofManifest: manifest.bytes, config: config)
        let step = PullPlan.Step(
            repository: want.repository, reference: want.reference, shown: shown, task: kind == .base ? nil : want.task, version: want.version, manifest: manifest,
            kind: kind, config: config, layerCount: decoded.layers.count, missing: try registry.missingBlobs(ofManifest: manifest.bytes))
        return .artifact(step, requirements: requirements)
    }

    /// A local artifact or base model with exactly this manifest (and so the same content, task and
    /// version): nothing to fetch or import.
    private func localCopy(of digest: Digest, task: String?, version: String?) throws -> (name: String, kind: ManifestKind)? {
        if let artifact = try registry.artifact(manifestDigest: digest.description),
           task == nil || artifact.task == task, version == nil || artifact.version == version
        {
            return ("\(artifact.task):\(artifact.version)", ManifestKind(artifact.kind))
        }
        if task == nil, let base = try registry.baseModels().first(where: { $0.manifestDigest == digest.description }) {
            return (base.name, .base)
        }
        return nil
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
}
