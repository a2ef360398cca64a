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
    public var blobsUploaded = 0
    public var blobsMounted = 0
    /// Blobs the remote already held.
    public var blobsPresent = 0
    public var bytesUploaded = 0
}

/// Publishes a local version and what it depends on (its base model, a fusion's members) to a
/// remote: dependencies first, each blob only if the remote lacks it, then the manifest under its
/// tags (the version, and `latest` when it is the local latest).
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

    public func push(_ reference: Reference) async throws -> PushReport {
        let artifact = try registry.outgoing(reference)
        var report = PushReport()
        var done = Set<String>()
        try await push(artifact, report: &report, done: &done)
        return report
    }

    /// Depth first: every dependency before the artifact that needs it, each once.
    private func push(_ artifact: OutgoingArtifact, report: inout PushReport, done: inout Set<String>) async throws {
        for dependency in artifact.dependencies {
            try await push(dependency, report: &report, done: &done)
        }
        guard done.insert(artifact.repository + "@" + artifact.manifestDigest.description).inserted else { return }
        let repository = client.location.repository(artifact.repository)
        observer?(.artifact(action: .push, repository: artifact.repository, reference: artifact.tags.first ?? Reference.latest))
        var staleTags: [String] = []
        for tag in artifact.tags {
            if try await client.manifestDigest(of: repository, reference: tag) != artifact.manifestDigest { staleTags.append(tag) }
        }
        report.published.append(PushReport.Published(
            repository: artifact.repository, tags: artifact.tags, digest: artifact.manifestDigest, upToDate: staleTags.isEmpty))
        guard !staleTags.isEmpty else { return }

        let uploads = try artifact.blobs.map { blob in
            BlobUpload(
                client: client, repository: repository, descriptor: blob, path: registry.blobs.path(of: blob.digest),
                mountSources: try mountSources(of: blob.digest, excluding: artifact.repository),
                progress: TransferProgress(digest: blob.digest.description, label: Self.label(of: blob, in: artifact.repository), observer: observer))
        }
        let outcomes = try await mapConcurrently(uploads, limit: client.options.parallelTransfers) { try await $0.run() }
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
