import Foundation

/// The config blob of an adapter or fusion manifest: what `show` displays, portable between registries.
public struct ArtifactConfig: Codable, Sendable, Equatable {
    public struct Base: Codable, Sendable, Equatable {
        public var name: String
        public var digest: String

        public init(name: String, digest: String) {
            self.name = name
            self.digest = digest
        }
    }

    public struct Member: Codable, Sendable, Equatable {
        public var task: String
        public var version: String
        public var manifestDigest: String

        public init(task: String, version: String, manifestDigest: String) {
            self.task = task
            self.version = version
            self.manifestDigest = manifestDigest
        }
    }

    public var task: String
    public var version: String
    public var kind: ArtifactKind
    public var architecture: AdapterKind
    public var format: ArtifactFormat
    public var base: Base
    public var parameters: Int
    public var headParameters: Int
    public var labels: [String]
    public var description: String
    public var members: [Member]?
    /// Free-form JSON text (training metrics and hyper-parameters…).
    public var metadata: String?

    public init(
        task: String, version: String, kind: ArtifactKind, architecture: AdapterKind, format: ArtifactFormat, base: Base,
        parameters: Int, headParameters: Int, labels: [String], description: String, members: [Member]?, metadata: String?
    ) {
        self.task = task
        self.version = version
        self.kind = kind
        self.architecture = architecture
        self.format = format
        self.base = base
        self.parameters = parameters
        self.headParameters = headParameters
        self.labels = labels
        self.description = description
        self.members = members
        self.metadata = metadata
    }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try! encoder.encode(self))
    }
}

/// The config blob of a base model manifest.
public struct BaseConfig: Codable, Sendable, Equatable {
    public var name: String
    public var digest: String
    public var modelType: String
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var vocabSize: Int
    public var maxPositions: Int
    public var parameters: Int
    /// `architectures` of config.json (absent in configs written before any base was accepted).
    public var architectures: [String]?
    /// The weights' dtypes, e.g. `BF16` or `F16+F32` (absent before any base was accepted).
    public var dtype: String?

    public init(
        name: String, digest: String, modelType: String, hiddenSize: Int, layerCount: Int, headCount: Int, intermediateSize: Int,
        vocabSize: Int, maxPositions: Int, parameters: Int, architectures: [String]?, dtype: String?
    ) {
        self.name = name
        self.digest = digest
        self.modelType = modelType
        self.hiddenSize = hiddenSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.intermediateSize = intermediateSize
        self.vocabSize = vocabSize
        self.maxPositions = maxPositions
        self.parameters = parameters
        self.architectures = architectures
        self.dtype = dtype
    }

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try! encoder.encode(self))
    }
}
