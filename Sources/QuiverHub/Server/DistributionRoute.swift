import Foundation
import QuiverModel
import QuiverStore

/// What a manifest request names: a tag (a version, or `latest`) or a digest.
enum ManifestReference: Sendable, Equatable, CustomStringConvertible {
    case tag(String)
    case digest(Digest)

    /// - Throws: `DIGEST_INVALID` for a malformed digest; `MANIFEST_INVALID` for a tag outside the OCI
    ///   tag grammar (the spec's old `TAG_INVALID`).
    init(parsing text: Substring) throws(RegistryError) {
        if text.contains(":") {
            do {
                self = .digest(try Digest(parsing: String(text)))
            } catch {
                throw RegistryError(.digestInvalid, "invalid digest '\(text.prefix(100))': expected sha256:<64 lower-case hex digits>")
            }
        } else {
            do {
                try Reference.validateVersion(String(text), allowLatest: true)
            } catch {
                throw RegistryError(.manifestInvalid, "invalid tag '\(text.prefix(140))': use up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'")
            }
            self = .tag(String(text))
        }
    }

    var description: String {
        switch self {
        case .tag(let tag): tag
        case .digest(let digest): digest.description
        }
    }
}

/// One endpoint of the distribution API, parsed from the path below `/v2/`.
///
/// Repository names contain slashes, so the endpoint is recognised from the end of the path
/// (`…/manifests/<reference>`, `…/blobs/<digest>`, `…/blobs/uploads/[<id>]`, `…/tags/list`) and
/// what precedes it is the repository name, validated by `RepositoryName`.
enum DistributionRoute: Sendable, Equatable {
    case catalog
    case tags(RepositoryName)
    case manifest(RepositoryName, ManifestReference)
    case blob(RepositoryName, Digest)
    /// `POST /v2/<name>/blobs/uploads/`: start (or finish at once, or mount).
    case uploads(RepositoryName)
    /// `/v2/<name>/blobs/uploads/<id>`: an upload in progress.
    case upload(RepositoryName, UUID)

    init(components: [Substring], namespace: String) throws(RegistryError) {
        let count = components.count
        if components == ["_catalog"] {
            self = .catalog
        } else if count >= 3, components[count - 2] == "tags", components[count - 1] == "list" {
            self = .tags(try RepositoryName(components: components.dropLast(2), namespace: namespace))
        } else if count >= 3, components[count - 2] == "manifests" {
            let name = try RepositoryName(components: components.dropLast(2), namespace: namespace)
            self = .manifest(name, try ManifestReference(parsing: components[count - 1]))
        } else if count >= 3, components[count - 2] == "blobs", components[count - 1] == "uploads" {
            self = .uploads(try RepositoryName(components: components.dropLast(2), namespace: namespace))
        } else if count >= 3, components[count - 2] == "blobs" {
            let name = try RepositoryName(components: components.dropLast(2), namespace: namespace)
            self = .blob(name, try Self.digest(components[count - 1]))
        } else if count >= 4, components[count - 3] == "blobs", components[count - 2] == "uploads" {
            let name = try RepositoryName(components: components.dropLast(3), namespace: namespace)
            guard let id = UUID(uuidString: String(components[count - 1])) else {
                throw RegistryError(.blobUploadUnknown, "unknown upload '\(components[count - 1].prefix(64))'")
            }
            self = .upload(name, id)
        } else {
            throw RegistryError(.unsupported, "no distribution endpoint at /v2/\(components.joined(separator: "/").prefix(300))", status: .notFound)
        }
    }

    /// A digest from a path or query, as the spec's `DIGEST_INVALID` when malformed.
    static func digest(_ text: Substring) throws(RegistryError) -> Digest {
        do {
            return try Digest(parsing: String(text))
        } catch {
            throw RegistryError(.digestInvalid, "invalid digest '\(text.prefix(100))': expected sha256:<64 lower-case hex digits>")
        }
    }
}
