import Foundation
import QuiverModel
import QuiverStore

/// What a push did.
public struct PushReport: Sendable {
    public struct Published: Sendable, Equatable {
        /// The repository below the namespace (`TASK` or `base/NAME`).
        public var repository: String
        public var tags: [String]
        public var digest: Digest
        /// True when every tag already pointed at this manifest: nothing was sent.
        public var upToDate: Bool
    }

    /// Dependencies first, the artifact asked for last.
    public var published: [Published] = []
    /// Versions asked for that could not be published (nor could what they need).
    public var failed: [TransferFailure] = []
    public var blobsUploaded = 0
    public var blobsMounted = 0
    /// Blobs the remote already held.
    public var blobsPresent = 0
    public var bytesUploaded = 0
}

/// Publishes local versions and what they depend on (base models, a fusion's members) to a
/// remote: dependencies first, each blob only if the remote lacks it, then the manifest under its
/// tags (the version, and `latest` when it is the local latest). Many versions go level by level
/// (base models, then adapters, then fusions), the artifacts of a level several at once; one that
/// fails is reported with what needs it, and the others are published.
///
/// ```swift
/// let report = try await RemotePush(registry: registry, client: client).push(Reference(parsing: "sentiment"))
/// ```
public struct RemotePush: Sendable {
    public let registry: Registry
    public let client: DistributionClient
    public let observer: TransferObserver?

    public init(registry: Registry, client: DistributionClient, observer: TransferObserver? = nil) {
        self.registry = registry
        self.client = client
        self.observer = observer
    }

    /// Publishes one version; a failure is thrown.
    public func push(_ reference: Reference) async throws -> PushReport {
        let report = try await push([reference])
        if let failure = report.failed.first { throw failure.error }
        return report
    }

    /// Publishes every local task's latest version.
    public func pushAll() async throws -> PushReport {
        let tasks = Set(try registry.list().map(\.task)).sorted()
        return try await push(try tasks.map { try Reference(task: $0) })
    }

    /// Publishes the versions; those that fail are listed in `failed`.
    public func push(_ references: [Reference]) async throws -> PushReport {
        var report = PushReport()
        var roots: [(name: String, key: String)] = []
        var artifacts: [String: (artifact: OutgoingArtifact, level: Int)] = [:]
        func collect(_ artifact: OutgoingArtifact) -> (key: String, level: Int) {
            let key = Self.key(artifact)
            if let known = artifacts[key] { return (key, known.level) }
            let level = artifact.dependencies.map { collect($0).level + 1 }.max() ?? 0
            artifacts[key] = (artifact, level)
            return (key, level)
        }
        for reference in references {
            do {
                roots.append((reference.description, collect(try registry.outgoing(reference)).key))
            } catch {
                report.failed.append(TransferFailure(name: reference.description, error: error))
            }
        }
        var failures: [String: any Error] = [:]
        let slots = TransferSlots(client.options.parallelTransfers)
        let levels = Dictionary(grouping: artifacts.values, by: \.level).sorted { $0.key < $1.key }
        for (depth, level) in levels {
            let ordered = level.map(\.artifact).sorted { ($0.repository, $0.manifestDigest.description) < ($1.repository, $1.manifestDigest.description) }
            let outcomes = try await mapConcurrently(ordered, limit: client.options.parallelTransfers) { [failures] artifact in
                if let cause = artifact.dependencies.lazy.compactMap({ failures[Self.key($0)] }).first { return Result<PushReport, any Error>.failure(cause) }
                do { return .success(try await publish(artifact, slots: slots)) } catch { return .failure(error) }
            }
            for (artifact, outcome) in zip(ordered, outcomes) {
                switch outcome {
                case .success(let done):
                    report.published += done.published
                    report.blobsUploaded += done.blobsUploaded
                    report.blobsMounted += done.blobsMounted
                    report.blobsPresent += done.blobsPresent
                    report.bytesUploaded += done.bytesUploaded
                case .failure(let error):
                    failures[Self.key(artifact)] = error
                }
            }
            observer?(.progress(action: .push, done: roots.filter { artifacts[$0.key]!.level <= depth }.count, total: references.count))
        }
        for root in roots {
            if let error = failures[root.key] { report.failed.append(TransferFailure(name: root.name, error: error)) }
        }
        return report
    }

    /// An artifact once per push, whichever versions need it: `REPOSITORY@DIGEST`.
    private static func key(_ artifact: OutgoingArtifact) -> String { artifact.repository + "@" + artifact.manifestDigest.description }

    /// Publishes one artifact whose dependencies are on the remote; its blob transfers take
    /// `slots` shared with the other artifacts of the push.
    private func publish(_ artifact: OutgoingArtifact, slots: TransferSlots) async throws -> PushReport {
        var report = PushReport()
        let repository = client.location.repository(artifact.repository)
        observer?(.artifact(action: .push, repository: artifact.repository, reference: artifact.tags.first ?? Reference.latest))
        let current = try await mapConcurrently(artifact.tags, limit: artifact.tags.count) { tag in
            try await client.manifestDigest(of: repository, reference: tag)
        }
        let staleTags = zip(artifact.tags, current).filter { $0.1 != artifact.manifestDigest }.map(\.0)
        report.published.append(PushReport.Published(
            repository: artifact.repository, tags: artifact.tags, digest: artifact.manifestDigest, upToDate: staleTags.isEmpty))
        guard !staleTags.isEmpty else { return report }

        let uploads = try artifact.blobs.map { blob in
            BlobUpload(
                client: client, repository: repository, descriptor: blob, path: registry.blobs.path(of: blob.digest),
                mountSources: try mountSources(of: blob.digest, excluding: artifact.repository),
                progress: TransferProgress(digest: blob.digest.description, label: Self.label(of: blob, in: artifact.repository), observer: observer))
        }
        let outcomes = try await mapConcurrently(uploads, limit: uploads.count) { upload in try await slots.run { try await upload.run() } }
        for (upload, outcome) in zip(uploads, outcomes) {
            switch outcome {
            case .exists: report.blobsPresent += 1
            case .mounted: report.blobsMounted += 1
            case .uploaded:
                report.blobsUploaded += 1
                report.bytesUploaded += upload.descriptor.size
            }
        }
        for tag in staleTags {
            try await client.putManifest(artifact.manifest, digest: artifact.manifestDigest, in: repository, reference: tag)
        }
        return report
    }

    /// Other repositories of the remote that should hold a blob: those of the local artifacts and
    /// base models that use it (published from here earlier, the usual way a blob gets there).
    private func mountSources(of digest: Digest, excluding repository: String) throws -> [String] {
        try registry.users(ofBlob: digest.description).compactMap { user -> String? in
            let name: String
            if user.hasPrefix("base ") {
                name = Registry.baseRepository(String(user.dropFirst("base ".count)))
            } else {
                name = String(user.prefix { $0 != ":" })
            }
            return name == repository ? nil : client.location.repository(name)
        }
    }

    /// A short name for progress lines: the layer's file name, or `config`.
    static func label(of blob: Descriptor, in repository: String) -> String {
        "\(repository)/" + (blob.annotations?[AnnotationKey.title] ?? "config")
    }
}
