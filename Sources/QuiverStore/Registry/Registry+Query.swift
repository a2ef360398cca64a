import QuiverModel
import Foundation
import QuiverTensor

/// One row of `quiver list`.
public struct ArtifactSummary: Sendable, Codable, Equatable {
    public var task: String
    public var version: String
    public var kind: ArtifactKind
    public var architecture: AdapterKind
    /// Adapter (or fusion) weights only.
    public var parameters: Int
    public var headParameters: Int
    /// Uncompressed bytes of the version's files.
    public var size: Int
    /// Bytes as stored (compressed).
    public var storedSize: Int
    public var base: String
    public var baseDigest: String
    public var digest: String
    public var tags: [String]
    public var labels: [String]
    public var members: [String]
    public var description: String
    public var created: Date
    /// Whether this build's engine runs it (`infer`, `eval`, `/v1/infer`); when not, `engineNote` says why.
    public var runnable: Bool
    public var engineNote: String?

    enum CodingKeys: String, CodingKey {
        case task, version, kind, architecture, runnable
        case engineNote = "engine_note"
        case parameters
        case headParameters = "head_parameters"
        case size
        case storedSize = "stored_size"
        case base
        case baseDigest = "base_digest"
        case digest, tags, labels, members, description, created
    }
}

extension ArtifactSummary {
    /// The object of `quiver list --json` and `GET /api/adapters`: what `JSONEncoder` makes of this summary with
    /// sorted keys and ISO 8601 dates (a test holds the two equal), built directly: encoding 10,000 summaries
    /// through `Codable` took longer than reading them from the catalog.
    public var json: JSONValue {
        var object: [(key: String, value: JSONValue)] = [
            ("architecture", .string(architecture.rawValue)), ("base", .string(base)), ("base_digest", .string(baseDigest)),
            ("created", .string(UTCTime(created).iso8601)), ("description", .string(description)), ("digest", .string(digest)),
            ("head_parameters", .integer(Int64(headParameters))), ("kind", .string(kind.rawValue)),
            ("labels", .array(labels.map(JSONValue.string))), ("members", .array(members.map(JSONValue.string))),
            ("parameters", .integer(Int64(parameters))), ("runnable", .bool(runnable)), ("size", .integer(Int64(size))),
            ("stored_size", .integer(Int64(storedSize))), ("tags", .array(tags.map(JSONValue.string))), ("task", .string(task)),
            ("version", .string(version)),
        ]
        if let engineNote { object.insert(("engine_note", .string(engineNote)), at: 6) }  // after "digest"
        return .object(object)
    }
}

/// Everything `quiver show` prints about one version.
public struct ArtifactDetail: Sendable, Codable {
    public struct File: Sendable, Codable {
        public var name: String
        public var role: FileRole
        public var digest: String
        public var size: Int
        public var storedSize: Int
        public var encoding: String
        enum CodingKeys: String, CodingKey {
            case name, role, digest, size
            case storedSize = "stored_size"
            case encoding
        }
    }

    public var summary: ArtifactSummary
    public var format: ArtifactFormat
    public var files: [File]
    public var config: String
    public var headConfig: String?
    public var metadata: String
    public var usedBy: [String]
}

extension Registry {
    public func resolve(_ reference: Reference) throws -> ArtifactRow {
        guard let artifact = try catalog.artifact(reference) else {
            let versions = try catalog.versions(of: reference.task).map(\.version)
            if versions.isEmpty {
                throw QuiverError(.notFound, "no adapter or fusion named '\(reference.task)' in the registry")
            }
            throw QuiverError(.notFound, "\(reference) not found (versions: \(versions.joined(separator: ", ")))")
        }
        return artifact
    }

    /// Every adapter and fusion version, by task then age.
    public func list() throws -> [ArtifactSummary] { try catalog.summaries() }

    public func show(_ reference: Reference) throws -> ArtifactDetail {
        let artifact = try resolve(reference)
        guard let summary = try catalog.summaries(of: artifact.id!).first else {
            throw QuiverError(.notFound, "\(reference) was removed while being read")
        }
        var files: [ArtifactDetail.File] = []
        var config = "{}", headConfig: String?
        for file in try catalog.artifactFiles(artifact.id!) {
            let blob = try descriptor(ofBlob: file.blobDigest)
            files.append(.init(name: file.name, role: file.role, digest: blob.digest.description, size: blob.contentSize, storedSize: blob.size, encoding: blob.encoding.rawValue))
            if file.role == .adapterConfig || file.role == .fusionConfig { config = String(decoding: try blobs.readAll(blob), as: UTF8.self) }
            if file.role == .headConfig { headConfig = String(decoding: try blobs.readAll(blob), as: UTF8.self) }
        }
        let usedBy = try catalog.fusions(using: artifact.id!).map { "\($0.task):\($0.version)" }
        return ArtifactDetail(
            summary: summary, format: artifact.format, files: files,
            config: config, headConfig: headConfig, metadata: artifact.metadata, usedBy: usedBy)
    }

    public func baseModels() throws -> [BaseModelRow] { try catalog.baseModels() }
}
