import QuiverModel

/// Media types of Quiver's OCI artifacts.
public enum MediaType {
    public static let imageManifest = "application/vnd.oci.image.manifest.v1+json"

    public static let adapterArtifact = "application/vnd.quiver.adapter.v1+json"
    public static let fusionArtifact = "application/vnd.quiver.fusion.v1+json"
    public static let baseArtifact = "application/vnd.quiver.base.v1+json"

    public static let adapterConfig = "application/vnd.quiver.adapter.config.v1+json"
    public static let fusionConfig = "application/vnd.quiver.fusion.config.v1+json"
    public static let baseConfig = "application/vnd.quiver.base.config.v1+json"

    /// A safetensors file stored as it is.
    public static let safetensors = "application/vnd.quiver.safetensors"
    /// A safetensors file stored in QuiverCodec's byte-plane container.
    public static let safetensorsPlanes = "application/vnd.quiver.safetensors+planes"
    public static let json = "application/json"
    public static let text = "text/plain"

    static func layer(fileName: String, encoding: BlobEncoding) -> String {
        if fileName.hasSuffix(".safetensors") { return encoding == .planes ? safetensorsPlanes : safetensors }
        if fileName.hasSuffix(".json") { return json }
        return text
    }

    static func encoding(ofLayer mediaType: String) -> BlobEncoding {
        mediaType == safetensorsPlanes ? .planes : .raw
    }
}

/// Annotation keys on manifests and layers.
public enum AnnotationKey {
    public static let title = "org.opencontainers.image.title"
    public static let description = "org.opencontainers.image.description"
    public static let task = "io.quiver.task"
    public static let version = "io.quiver.version"
    public static let kind = "io.quiver.kind"
    public static let architecture = "io.quiver.architecture"
    public static let parameters = "io.quiver.parameters"
    public static let headParameters = "io.quiver.head-parameters"
    public static let baseName = "io.quiver.base.name"
    public static let baseDigest = "io.quiver.base.digest"
    public static let members = "io.quiver.fusion.members"
    public static let role = "io.quiver.role"
    public static let contentDigest = "io.quiver.content.digest"
    public static let contentSize = "io.quiver.content.size"
}

/// What a Quiver manifest describes, from its `artifactType`.
public enum ManifestKind: String, Sendable, Equatable, Codable {
    case base, adapter, fusion

    public init?(artifactType: String) {
        switch artifactType {
        case MediaType.baseArtifact: self = .base
        case MediaType.adapterArtifact: self = .adapter
        case MediaType.fusionArtifact: self = .fusion
        default: return nil
        }
    }

    public init(_ kind: ArtifactKind) {
        switch kind {
        case .adapter: self = .adapter
        case .fusion: self = .fusion
        }
    }
}
