import Foundation
import Hummingbird
import QuiverModel
import QuiverStore

extension DistributionController {
    /// `GET`/`HEAD /v2/<name>/manifests/<tag|digest>`: the manifest bytes as stored.
    func manifest(_ name: RepositoryName, _ reference: ManifestReference, head: Bool) throws -> Response {
        let digest = try manifestDigest(name, reference)
        let bytes = try registry.blobs.readStored(digest, limit: Manifest.sizeLimit)
        var headers: HTTPFields = [
            .contentType: MediaType.imageManifest, .dockerContentDigest: digest.description, .eTag: "\"\(digest)\"",
            .contentLength: String(bytes.count),
        ]
        if case .digest = reference { headers[.cacheControl] = "max-age=31536000" }
        if head { return Response(status: .ok, headers: headers, body: .init()) }
        headers[.contentLength] = nil
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The digest of the manifest a tag or digest names in a repository.
    ///
    /// - Throws: `MANIFEST_UNKNOWN` (with the tags there are), `NAME_UNKNOWN` for an empty repository.
    func manifestDigest(_ name: RepositoryName, _ reference: ManifestReference) throws -> Digest {
        switch name.content {
        case .task(let task):
            let row: ArtifactRow?
            switch reference {
            case .tag(let tag): row = try registry.artifact(Reference(task: task, version: tag))
            case .digest(let digest): row = try registry.artifact(manifestDigest: digest.description).flatMap { $0.task == task ? $0 : nil }
            }
            guard let row else {
                let versions = try registry.versions(of: task).map(\.version)
                guard !versions.isEmpty else { throw RegistryError(.nameUnknown, "repository \(name) is unknown: no adapter or fusion '\(task)' here") }
                throw RegistryError(.manifestUnknown, "\(name):\(reference) is unknown (versions: \(versions.joined(separator: ", ")))", detail: ["reference": reference.description])
            }
            return try Digest(parsing: row.manifestDigest)
        case .base(let baseName):
            guard let base = try registry.baseModel(named: baseName) else {
                throw RegistryError(.nameUnknown, "repository \(name) is unknown: no base model '\(baseName)' here")
            }
            let digest = try Digest(parsing: base.manifestDigest)
            switch reference {
            case .tag(Reference.latest): return digest
            case .digest(digest): return digest
            default: throw RegistryError(.manifestUnknown, "\(name):\(reference) is unknown (a base model has one manifest, tagged latest)", detail: ["reference": reference.description])
            }
        }
    }

    /// `PUT /v2/<name>/manifests/<tag|digest>`: imports an artifact whose blobs were uploaded (or are
    /// already here) into the registry, through the same checks as a local push.
    func putManifest(_ name: RepositoryName, _ reference: ManifestReference, request: Request, context: Context) async throws -> Response {
        if let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces),
           !type.isEmpty, type != MediaType.imageManifest
        {
            throw RegistryError(.manifestInvalid, "manifest media type \(type) is not served here: Quiver artifacts are OCI image manifests (\(MediaType.imageManifest))")
        }
        let bytes = try await RequestBodyReader.collect(request, context: context, limit: limits.manifestBytes, timeout: limits.requestBodyTimeout) { limit in
            RegistryError(.sizeInvalid, "manifest is larger than the server's limit of \(limit) bytes", status: .contentTooLarge)
        }
        let receiver = ManifestReceiver(registry: registry, uploads: uploads, coalescer: imports)
        let digest = try await receiver.receive(bytes, repository: name, reference: reference)
        return Response(status: .created, headers: [
            .location: "/v2/\(name)/manifests/\(digest)", .dockerContentDigest: digest.description, .contentLength: "0",
        ])
    }

    /// `DELETE /v2/<name>/manifests/<version|digest>`: removes that version (or base model), as
    /// `quiver rm` does; refused while a fusion uses it.
    func deleteManifest(_ name: RepositoryName, _ reference: ManifestReference) throws -> Response {
        if case .tag(Reference.latest) = reference, case .task = name.content {
            throw RegistryError(.unsupported, "delete a version or a digest, not the tag latest")
        }
        let digest = try manifestDigest(name, reference)
        switch name.content {
        case .task:
            guard let row = try registry.artifact(manifestDigest: digest.description) else {
                throw RegistryError(.manifestUnknown, "\(name):\(reference) is unknown")
            }
            try registry.remove(Reference(task: row.task, version: row.version))
        case .base(let baseName):
            try registry.removeBase(named: baseName)
        }
        return Response(status: .accepted, headers: [.contentLength: "0"])
    }
}
