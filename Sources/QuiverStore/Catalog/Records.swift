import QuiverModel
import Foundation
import GRDB

// Record types mirror the catalog's tables, one struct per table.

/// A stored blob (table `blob`).
public struct BlobRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "blob"
    public var digest: String
    public var size: Int
    public var contentDigest: String
    public var contentSize: Int
    public var encoding: String
    public var createdAt: Date

    public enum Columns {
        static let digest = Column("digest")
        static let contentDigest = Column("contentDigest")
    }

    public init(_ descriptor: BlobDescriptor, createdAt: Date = Date()) {
        digest = descriptor.digest.description
        size = descriptor.size
        contentDigest = descriptor.contentDigest.description
        contentSize = descriptor.contentSize
        encoding = descriptor.encoding.rawValue
        self.createdAt = createdAt
    }

    public func descriptor() throws -> BlobDescriptor {
        guard let encoding = BlobEncoding(rawValue: encoding) else {
            throw QuiverError(.corrupt, "blob \(digest): unknown encoding '\(self.encoding)' in the catalog")
        }
        return BlobDescriptor(
            digest: try Digest(parsing: digest), size: size,
            contentDigest: try Digest(parsing: contentDigest), contentSize: contentSize, encoding: encoding)
    }
}

/// A registered base model (table `baseModel`).
public struct BaseModelRow: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "baseModel"
    public var id: Int64?
    public var name: String
    /// Content digest of the canonical weights: the base's identity wherever it is stored.
    public var digest: String
    public var manifestDigest: String
    public var configDigest: String
    public var modelType: String
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var vocabSize: Int
    public var maxPositions: Int
    public var parameters: Int
    public var size: Int
    public var storedSize: Int
    public var createdAt: Date
    /// JSON array of `architectures` (model class names).
    public var architectures: String
    /// The weights' dtypes (`BF16`, `F16+F32`…).
    public var dtype: String
    /// Nil when the engine of the build that stored it runs it, else why not (one line).
    public var engineNote: String?

    public enum Columns {
        static let id = Column("id")
        static let name = Column("name")
        static let digest = Column("digest")
    }

    public init(config: BaseConfig, manifestDigest: String, configDigest: String, engineNote: String?, size: Int, storedSize: Int, createdAt: Date = Date()) {
        id = nil
        name = config.name
        digest = config.digest
        self.manifestDigest = manifestDigest
        self.configDigest = configDigest
        modelType = config.modelType
        hiddenSize = config.hiddenSize
        layerCount = config.layerCount
        headCount = config.headCount
        intermediateSize = config.intermediateSize
        vocabSize = config.vocabSize
        maxPositions = config.maxPositions
        parameters = config.parameters
        self.size = size
        self.storedSize = storedSize
        self.createdAt = createdAt
        architectures = Registry.jsonArray(config.architectures ?? [])
        dtype = config.dtype ?? ""
        self.engineNote = engineNote
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }

    /// Whether this build's engine runs it.
    public var runnable: Bool { engineNote == nil }
}

/// An adapter or fusion version (table `artifact`).
public struct ArtifactRow: Codable, Sendable, Equatable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "artifact"
    public var id: Int64?
    public var task: String
    public var version: String
    public var kind: ArtifactKind
    public var manifestDigest: String
    public var configDigest: String
    public var architecture: AdapterKind
    /// The library layout its files follow.
    public var format: ArtifactFormat
    public var baseModelId: Int64
    public var parameters: Int
    public var headParameters: Int
    public var size: Int
    public var storedSize: Int
    /// JSON array of label names (empty when there is no head).
    public var labels: String
    public var description: String
    /// JSON object of free-form metadata (training metrics, hyper-parameters…).
    public var metadata: String
    public var createdAt: Date
    /// Nil when the engine of the build that stored it runs it on its base, else why not (one line).
    public var engineNote: String?

    /// Whether this build's engine runs it.
    public var runnable: Bool { engineNote == nil }

    public enum Columns {
        static let id = Column("id")
        static let task = Column("task")
        static let version = Column("version")
        static let manifestDigest = Column("manifestDigest")
        static let baseModelId = Column("baseModelId")
        static let createdAt = Column("createdAt")
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// One file of an artifact or base model, stored as a blob (tables `artifactFile`, `baseModelFile`).
public struct FileRow: Codable, Sendable, Equatable {
    /// File name in the folder layout (`adapter.safetensors`…).
    public var name: String
    public var role: FileRole
    public var blobDigest: String
}

struct ArtifactFileRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "artifactFile"
    var artifactId: Int64
    var name: String
    var role: FileRole
    var blobDigest: String
}

struct BaseModelFileRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "baseModelFile"
    var baseModelId: Int64
    var name: String
    var role: FileRole
    var blobDigest: String
}

/// A movable name for a version (table `tag`); `latest` follows the newest push.
struct TagRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "tag"
    var task: String
    var name: String
    var artifactId: Int64
}

/// A fusion's member adapters, in order, by manifest digest (table `fusionMember`).
public struct FusionMemberRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "fusionMember"
    public var fusionId: Int64
    public var position: Int
    public var memberId: Int64
    public var memberManifestDigest: String
}

// The closed sets are stored as their names.
extension ArtifactKind: DatabaseValueConvertible {}
extension ArtifactFormat: DatabaseValueConvertible {}
extension AdapterKind: DatabaseValueConvertible {}
extension FileRole: DatabaseValueConvertible {}
