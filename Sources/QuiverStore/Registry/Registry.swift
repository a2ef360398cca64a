import QuiverModel
import Foundation
import QuiverTensor

/// A local Quiver registry: a folder holding the catalog (`catalog.sqlite`), the blob store
/// (`blobs/sha256/`), a `tmp/` folder for writes in progress and a lock file.
///
/// ```swift
/// let registry = try Registry(home: "registry")
/// try registry.addBase(folder: "all-MiniLM-L6-v2")
/// try registry.push(Reference(parsing: "sentiment"), folder: "sentiment-adapter")
/// for entry in try registry.list() { print(entry.task, entry.parameters) }
/// ```
public final class Registry: Sendable {
    public let home: String
    let catalog: Catalog
    public let blobs: BlobStore
    let lockPath: String
    /// The shapes of base models read so far, by manifest digest and engine note (a base's content
    /// never changes; re-judging it changes its note): every push of an adapter needs them.
    let baseShapes = Locked<[String: BaseShapes]>([:])

    public init(home: String) throws {
        self.home = home
        try FileSystem.createDirectory(home)
        guard access(home, W_OK) == 0 else {
            throw QuiverError(.io, "registry \(home) is not writable")
        }
        try FileSystem.createDirectory(home + "/blobs/sha256")
        try FileSystem.createDirectory(home + "/tmp")
        catalog = try Catalog(path: home + "/catalog.sqlite")
        blobs = BlobStore(home: home)
        lockPath = home + "/lock"
        removeAbandonedTemporaryFiles()
    }

    // MARK: - Shared steps

    /// Holds the registry lock for the duration of `body`.
    func locked<T>(_ mode: RegistryLock.Mode, _ body: () throws -> T) throws -> T {
        let lock = try RegistryLock(path: lockPath, mode: mode)
        defer { withExtendedLifetime(lock) {} }
        return try body()
    }

    /// Writes a folder file into a pending blob: tensors canonically with the byte-plane codec,
    /// other files as they are. Content already stored (found by hashing it first, which is much
    /// cheaper than compressing it) is reused instead.
    func prepare(_ file: FolderFile) throws -> StagedBlob {
        switch file.content {
        case .bytes(let bytes):
            if let existing = try storedBlob(withContent: Digest.of(bytes)) { return existing }
            return try deduplicate(blobs.write(bytes))
        case .tensors(let tensors):
            return try tensors.withCanonicalSegments { segments in
                var hasher = DigestHasher()
                for segment in segments { hasher.update(segment) }
                if let existing = try storedBlob(withContent: hasher.finalize()) { return existing }
                return try deduplicate(blobs.write(encoding: .planes, segments: segments, elementWidth: Self.elementWidth(of: tensors)))
            }
        }
    }

    private func storedBlob(withContent digest: Digest) throws -> StagedBlob? {
        guard let row = try catalog.blob(contentDigest: digest), blobs.contains(try Digest(parsing: row.digest)) else { return nil }
        return StagedBlob(descriptor: try row.descriptor(), pending: nil)
    }

    /// Stores small content as it is (manifests, config blobs). Like staged blobs, it is durable
    /// only after `blobs.syncDirectory()`, which callers run once before cataloguing.
    func store(_ bytes: [UInt8]) throws -> BlobDescriptor {
        let staged = try deduplicate(blobs.write(bytes))
        try staged.commit()
        return staged.descriptor
    }

    private func deduplicate(_ pending: PendingBlob) throws -> StagedBlob {
        if let existing = try storedBlob(withContent: pending.descriptor.contentDigest) {
            pending.discard()
            return existing
        }
        return StagedBlob(descriptor: pending.descriptor, pending: pending)
    }

    /// The element width of the float type holding most of a file's bytes (for byte-plane grouping).
    static func elementWidth(of file: SafetensorsFile) -> Int {
        var bytesByWidth: [Int: Int] = [:]
        for tensor in file.header.tensors where tensor.dtype.isFloatingPoint && tensor.dtype.bitWidth % 8 == 0 {
            bytesByWidth[tensor.dtype.bitWidth / 8, default: 0] += tensor.byteCount
        }
        return bytesByWidth.max { $0.value < $1.value }?.key ?? 1
    }

    func layer(_ file: FileRow, _ blob: BlobDescriptor) -> Descriptor {
        Descriptor(
            mediaType: MediaType.layer(fileName: file.name, encoding: blob.encoding), digest: blob.digest, size: blob.size,
            annotations: [
                AnnotationKey.title: file.name, AnnotationKey.role: file.role.rawValue,
                AnnotationKey.contentDigest: blob.contentDigest.description, AnnotationKey.contentSize: String(blob.contentSize),
            ])
    }

    func descriptor(ofBlob digest: String) throws -> BlobDescriptor {
        guard let row = try catalog.blob(digest: digest) else {
            throw QuiverError(.corrupt, "catalog references blob \(digest) but has no record of it")
        }
        return try row.descriptor()
    }
}

/// A blob ready to be part of a version: either already stored, or written to a temporary file
/// that becomes visible only on `commit` (and disappears if the push is refused).
struct StagedBlob {
    var descriptor: BlobDescriptor
    var pending: PendingBlob?

    func commit() throws { try pending?.commit(syncingDirectory: false) }
}

#if canImport(Glibc)
import Glibc
#endif
