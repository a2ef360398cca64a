import Foundation

/// An OCI content descriptor.
public struct Descriptor: Codable, Sendable, Equatable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int
    public var artifactType: String?
    public var annotations: [String: String]?

    public init(mediaType: String, digest: Digest, size: Int, artifactType: String? = nil, annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.artifactType = artifactType
        self.annotations = annotations
    }
}

/// An OCI image manifest (schema 2) describing one Quiver artifact: its config blob holds the
/// metadata, its layers are the files of the artifact's folder layout.
public struct Manifest: Codable, Sendable, Equatable {
    public var schemaVersion = 2
    public var mediaType = MediaType.imageManifest
    public var artifactType: String
    public var config: Descriptor
    public var layers: [Descriptor]
    /// For adapters and fusions: the base model's manifest.
    public var subject: Descriptor?
    public var annotations: [String: String]?

    public init(artifactType: String, config: Descriptor, layers: [Descriptor], subject: Descriptor?, annotations: [String: String]?) {
        self.artifactType = artifactType
        self.config = config
        self.layers = layers
        self.subject = subject
        self.annotations = annotations
    }

    /// Deterministic JSON (sorted keys, no white space): equal manifests have equal digests.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try! encoder.encode(self))
    }

    public static func decode(_ bytes: [UInt8], source: String) throws -> Manifest {
        do {
            let manifest = try JSONDecoder().decode(Manifest.self, from: Data(bytes))
            guard manifest.schemaVersion == 2 else {
                throw QuiverError(.invalidInput, "\(source): manifest schemaVersion \(manifest.schemaVersion) is not 2")
            }
            return manifest
        } catch let error as QuiverError {
            throw error
        } catch {
            throw QuiverError(.invalidInput, "\(source): not a valid OCI manifest (\(error))")
        }
    }

    /// The content descriptor recorded in a layer's annotations.
    public static func contentOf(_ layer: Descriptor) throws -> (digest: Digest, size: Int) {
        guard let digestText = layer.annotations?[AnnotationKey.contentDigest],
              let sizeText = layer.annotations?[AnnotationKey.contentSize], let size = Int(sizeText), size >= 0
        else {
            return (layer.digest, layer.size)
        }
        return (try Digest(parsing: digestText), size)
    }
}

/// The config blob of an adapter or fusion manifest: what `show` displays, portable between registries.
public struct ArtifactConfig: Codable, Sendable, Equatable {
    public struct Base: Codable, Sendable, Equatable {
        public var name: String
        public var digest: String
    }

    public struct Member: Codable, Sendable, Equatable {
        public var task: String
        public var version: String
        public var manifestDigest: String
    }

    public var task: String
    public var version: String
    public var kind: String
    public var architecture: String
    public var format: String
    public var base: Base
    public var parameters: Int
    public var headParameters: Int
    public var labels: [String]
    public var description: String
    public var members: [Member]?
    /// Free-form JSON text (training metrics and hyper-parameters…).
    public var metadata: String?

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

    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [UInt8](try! encoder.encode(self))
    }
}
