import Foundation
import QuiverModel
import QuiverStore

/// One tag of one repository of a remote, described from its manifest's annotations.
public struct RemoteEntry: Codable, Sendable, Equatable {
    /// The repository below the namespace: `TASK` or `base/NAME`.
    public var repository: String
    public var tag: String
    /// Nil for something that is not a Quiver artifact.
    public var kind: ManifestKind?
    /// The task and version recorded in the manifest (adapters and fusions).
    public var task: String?
    public var version: String?
    public var architecture: String?
    public var parameters: Int?
    public var headParameters: Int?
    /// The stored bytes of the layers.
    public var size: Int
    public var base: String?
    public var members: [String]?
    public var digest: String

    enum CodingKeys: String, CodingKey {
        case repository, tag, kind, task, version, architecture, parameters, size, base, members, digest
        case headParameters = "head_parameters"
    }
}

/// What a remote holds under its namespace: each repository's tags, described from the
/// manifests' `io.quiver.*` annotations (kind, architecture, parameter counts, base).
public struct RemoteCatalog: Sendable {
    public let client: DistributionClient

    public init(client: DistributionClient) { self.client = client }

    /// Every tag of every repository below the namespace, sorted by repository then tag.
    public func entries() async throws -> [RemoteEntry] {
        let repositories = try await client.catalog().compactMap { client.location.relative($0) }.sorted()
        let tagged = try await mapConcurrently(repositories, limit: 8) { repository in
            (repository, try await client.tags(of: client.location.repository(repository)).sorted())
        }
        let pairs = tagged.flatMap { repository, tags in tags.map { (repository, $0) } }
        let entries = try await mapConcurrently(pairs, limit: 8) { repository, tag in
            try await describe(repository: repository, tag: tag)
        }
        return entries.compactMap { $0 }
    }

    /// The entries of one repository (a task, or `base/NAME`).
    public func entries(of repository: String) async throws -> [RemoteEntry] {
        let tags = try await client.tags(of: client.location.repository(repository)).sorted()
        return try await mapConcurrently(tags, limit: 8) { try await describe(repository: repository, tag: $0) }.compactMap { $0 }
    }

    private func describe(repository: String, tag: String) async throws -> RemoteEntry? {
        guard let manifest = try await client.manifest(of: client.location.repository(repository), reference: tag) else { return nil }
        guard let decoded = try? Manifest.decode(manifest.bytes, source: "manifest") else {
            return RemoteEntry(repository: repository, tag: tag, size: 0, digest: manifest.digest.description)
        }
        let notes = decoded.annotations ?? [:]
        let kind = ManifestKind(artifactType: decoded.artifactType)
        return RemoteEntry(
            repository: repository, tag: tag, kind: kind, task: notes[AnnotationKey.task], version: notes[AnnotationKey.version],
            architecture: notes[AnnotationKey.architecture], parameters: notes[AnnotationKey.parameters].flatMap(Int.init),
            headParameters: notes[AnnotationKey.headParameters].flatMap(Int.init), size: decoded.layers.reduce(0) { $0 + $1.size },
            base: notes[AnnotationKey.baseName],
            members: notes[AnnotationKey.members].map { $0.split(separator: ",").map(String.init) },
            digest: manifest.digest.description)
    }
}
