import QuiverModel
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

    /// The largest blob a descriptor may announce (`ContentLimits` bounds what it decodes to).
    public static let maximumSize = ContentLimits.standard.maximumContentSize
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

    /// The largest manifest read (the distribution spec's usual limit).
    public static let sizeLimit = 4 << 20

    /// Parses a manifest strictly: Quiver's JSON parser first (duplicate keys, depth, trailing data),
    /// then the schema; every descriptor's size must be between 0 and `Descriptor.maximumSize`.
    public static func decode(_ bytes: [UInt8], source: String) throws -> Manifest {
        guard bytes.count <= sizeLimit else {
            throw QuiverError(.invalidInput, "\(source): \(bytes.count) bytes, over the \(sizeLimit)-byte limit for a manifest")
        }
        guard bytes.count <= cachedSizeLimit else { return try checked(bytes, source: source) }
        let digest = Digest.of(bytes)
        if let known = decoded.withLock({ $0[digest] }) { return known }
        let manifest = try checked(bytes, source: source)
        decoded.withLock { decoded in
            if decoded.count >= cachedCount { decoded.removeAll() }
            decoded[digest] = manifest
        }
        return manifest
    }

    /// Small manifests decoded so far, by digest: a pull or a `PUT` looks at the same manifest
    /// several times (planning, requirements, import), and its two JSON passes cost more than the
    /// lookup. Bounded (at most 512 manifests of at most 16 KiB) whatever a remote sends.
    private static let decoded = Locked<[Digest: Manifest]>([:])
    private static let cachedSizeLimit = 16 << 10, cachedCount = 512

    private static func checked(_ bytes: [UInt8], source: String) throws -> Manifest {
        let manifest = try StrictJSON.decode(Manifest.self, from: bytes, source: source, what: "OCI manifest")
        guard manifest.schemaVersion == 2 else {
            throw QuiverError(.invalidInput, "\(source): manifest schemaVersion \(manifest.schemaVersion) is not 2")
        }
        for descriptor in [manifest.config] + manifest.layers + (manifest.subject.map { [$0] } ?? [])
        where !(0...Descriptor.maximumSize).contains(descriptor.size) {
            throw QuiverError(.invalidInput, "\(source): descriptor \(descriptor.digest) announces \(descriptor.size) bytes, outside 0…\(Descriptor.maximumSize)")
        }
        return manifest
    }

    /// The content descriptor recorded in a layer's annotations (the stored one when it has none).
    public static func contentOf(_ layer: Descriptor) throws -> (digest: Digest, size: Int) {
        let digestText = layer.annotations?[AnnotationKey.contentDigest]
        let sizeText = layer.annotations?[AnnotationKey.contentSize]
        if digestText == nil, sizeText == nil { return (layer.digest, layer.size) }
        guard let digestText, let sizeText, let size = Int(sizeText), (0...Descriptor.maximumSize).contains(size),
              sizeText == String(size)
        else {
            throw QuiverError(
                .invalidInput,
                "layer \(layer.digest): \(AnnotationKey.contentDigest) and \(AnnotationKey.contentSize) must come together, the size a decimal number of at most \(Descriptor.maximumSize)")
        }
        return (try Digest(parsing: digestText), size)
    }
}

extension ArtifactConfig {
    /// The manifest annotations that repeat this config (what `list --remote` shows without reading it).
    public var manifestAnnotations: [String: String] {
        var annotations = [
            AnnotationKey.task: task, AnnotationKey.version: version, AnnotationKey.kind: kind.rawValue,
            AnnotationKey.architecture: architecture.rawValue, AnnotationKey.parameters: String(parameters),
            AnnotationKey.headParameters: String(headParameters), AnnotationKey.baseName: base.name,
            AnnotationKey.baseDigest: base.digest,
        ]
        if !description.isEmpty { annotations[AnnotationKey.description] = description }
        if let members, !members.isEmpty { annotations[AnnotationKey.members] = members.map(\.manifestDigest).joined(separator: ",") }
        return annotations
    }
}

extension BaseConfig {
    /// The manifest annotations that repeat this config.
    public var manifestAnnotations: [String: String] {
        [AnnotationKey.baseName: name, AnnotationKey.baseDigest: digest, AnnotationKey.parameters: String(parameters)]
    }
}
