import QuiverModel
import Foundation
import QuiverTensor

/// Content-addressed files under `blobs/sha256/<hex>`, written atomically and verified on every read.
public final class BlobStore: Sendable {
    public let blobsDirectory: String
    public let temporaryDirectory: String

    public init(home: String) {
        blobsDirectory = home + "/blobs/sha256"
        temporaryDirectory = home + "/tmp"
    }

    public func path(of digest: Digest) -> String { blobsDirectory + "/" + digest.hex }

    public func contains(_ digest: Digest) -> Bool { FileSystem.exists(path(of: digest)) }

    /// The digests of every blob file present.
    public func storedDigests() -> [Digest] {
        FileSystem.contentsOfDirectory(blobsDirectory).compactMap { try? Digest(parsing: "sha256:" + $0) }
    }

    public func remove(_ digest: Digest) { FileSystem.remove(path(of: digest)) }

    /// Where a download of `digest` keeps its bytes until they are complete: a resumable file of
    /// `tmp/`, locked by the download that writes it.
    public func downloadPath(of digest: Digest) -> String {
        temporaryDirectory + "/" + Self.downloadPrefix + digest.hex + ".part"
    }

    static let downloadPrefix = "download-"

    /// Whether an entry of `tmp/` is an unfinished, resumable download.
    static func isDownload(_ name: String) -> Bool { name.hasPrefix(downloadPrefix) && name.hasSuffix(".part") }

    /// Makes the renames of blobs committed with `syncingDirectory: false` durable, all at once.
    public func syncDirectory() { FileSystem.syncDirectory(blobsDirectory) }

    // MARK: - Writing

    /// Encodes the content read from `source` into a temporary file, hashing the content and the
    /// stored bytes on the way. Nothing is visible under the blob's digest until it is committed.
    ///
    /// - Parameters:
    ///   - segments: the content, as consecutive byte ranges (valid for the duration of the call).
    ///   - elementWidth: the byte width of the floats that dominate the content, for `.planes`.
    public func write(encoding: BlobEncoding, segments: [UnsafeRawBufferPointer], elementWidth: Int = 1) throws -> PendingBlob {
        let file = try TemporaryFile(in: temporaryDirectory)
        do {
            var contentHasher = DigestHasher()
            var storedHasher = DigestHasher()
            let contentLength = segments.reduce(0) { $0 + $1.count }
            var reader = SegmentReader(segments)
            let store: (UnsafeRawBufferPointer) throws -> Void = { bytes in
                storedHasher.update(bytes)
                try file.write(bytes)
            }
            switch encoding {
            case .raw:
                for segment in segments {
                    contentHasher.update(segment)
                    try store(segment)
                }
            case .planes:
                try PlaneCoding.encode(
                    contentLength: contentLength, elementWidth: elementWidth,
                    from: { buffer in
                        let count = reader.read(into: buffer)
                        contentHasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                        return count
                    }, to: store)
            }
            let descriptor = BlobDescriptor(
                digest: storedHasher.finalize(), size: storedHasher.count,
                contentDigest: contentHasher.finalize(), contentSize: contentHasher.count, encoding: encoding)
            return PendingBlob(descriptor: descriptor, file: file, destination: path(of: descriptor.digest))
        } catch {
            file.discard()
            throw error
        }
    }

    /// Stores small content (JSON, vocabularies) as it is.
    public func write(_ bytes: [UInt8]) throws -> PendingBlob {
        try bytes.withUnsafeBytes { try write(encoding: .raw, segments: [$0]) }
    }

    /// Stores the blob whose stored bytes were received into the file at `path` (a download) under
    /// its stored digest, verifying the stored digest and, while decoding, the content digest and size
    /// before anything becomes visible; `content` sees the decoded content as it is checked. Decoding
    /// stops at the declared content size, so check that size first (`ContentLimits`).
    ///
    /// - Parameter taking: commit the file at `path` itself (moved into the store) instead of a copy;
    ///   its owner must keep it there until then.
    public func receive(
        _ expected: BlobDescriptor, from path: String, taking: Bool = false, content: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> PendingBlob {
        try map(expected, at: path) { stored in
            try verify(stored, as: expected, into: content)
            if taking {
                return PendingBlob(descriptor: expected, file: try TemporaryFile(adopting: path), destination: self.path(of: expected.digest))
            }
            let file = try TemporaryFile(in: temporaryDirectory)
            do {
                try file.write(stored)
            } catch {
                file.discard()
                throw error
            }
            return PendingBlob(descriptor: expected, file: file, destination: self.path(of: expected.digest))
        }
    }

    // MARK: - Reading

    /// Streams a blob's content to `sink`, verifying the stored and the content digest. The content
    /// is trustworthy only once this returns without throwing.
    public func read(_ blob: BlobDescriptor, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let path = path(of: blob.digest)
        guard FileSystem.exists(path) else {
            throw QuiverError(.corrupt, "blob \(blob.digest) is missing from \(blobsDirectory)")
        }
        try read(blob, at: path, into: sink)
    }

    /// Streams the content of a blob's stored bytes kept at `path` (for example received from a remote
    /// and not yet in the store), verifying both digests as `read(_:into:)` does.
    public func read(_ blob: BlobDescriptor, at path: String, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try map(blob, at: path) { stored in try verify(stored, as: blob, into: sink) }
    }

    /// Runs `body` over the stored bytes of `blob` kept at `path`, memory-mapped.
    private func map<T>(_ blob: BlobDescriptor, at path: String, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        let mapped: MappedFile
        do {
            mapped = try MappedFile(path: path)
        } catch {
            throw QuiverError(.io, "blob \(blob.digest): \(error)")
        }
        return try mapped.withBytes(body)
    }

    /// Checks stored bytes against `blob` (size and digest), then decodes them into `sink`, stopping at
    /// the recorded content size, and checks the content digest.
    private func verify(_ stored: UnsafeRawBufferPointer, as blob: BlobDescriptor, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard stored.count == blob.size else {
            throw QuiverError(.corrupt, "blob \(blob.digest) is \(stored.count) bytes, the catalog says \(blob.size)")
        }
        var storedHasher = DigestHasher()
        storedHasher.update(stored)
        guard storedHasher.finalize() == blob.digest else {
            throw QuiverError(.corrupt, "blob \(blob.digest) is damaged: its bytes hash to \(storedHasher.finalize())")
        }
        var contentHasher = DigestHasher()
        try decode(stored: stored, encoding: blob.encoding, contentLimit: blob.contentSize) { bytes in
            contentHasher.update(bytes)
            try sink(bytes)
        }
        guard contentHasher.count == blob.contentSize, contentHasher.finalize() == blob.contentDigest else {
            throw QuiverError(.corrupt, "blob \(blob.digest) is damaged: its content does not hash to \(blob.contentDigest)")
        }
    }

    /// A blob's whole content, verified.
    public func readAll(_ blob: BlobDescriptor) throws -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(blob.contentSize)
        try read(blob) { output.append(contentsOf: $0) }
        return output
    }

    /// The first `count` bytes of a blob's content (all of it when shorter), decoding no further. Digests are not
    /// checked — the rest is not read — so this is for looking at a file's header (tensor names and shapes), never
    /// for handing out content.
    public func readPrefix(_ blob: BlobDescriptor, count: Int) throws -> [UInt8] {
        struct Enough: Error {}
        var output: [UInt8] = []
        do {
            try map(blob, at: path(of: blob.digest)) { stored in
                try decode(stored: stored, encoding: blob.encoding, contentLimit: blob.contentSize) { bytes in
                    output.append(contentsOf: bytes.prefix(count - output.count))
                    if output.count == count { throw Enough() }
                }
            }
        } catch is Enough {}
        return output
    }

    /// The stored bytes, verified against the digest (for sending to a remote).
    public func readStored(_ digest: Digest) throws -> [UInt8] {
        try readStored(digest, limit: Int.max)
    }

    /// The stored bytes of a small blob (a manifest, a config), verified against the digest; refused
    /// without reading when the file on disk is over `limit` bytes, whatever size a descriptor claims.
    public func readStored(_ digest: Digest, limit: Int) throws -> [UInt8] {
        let path = path(of: digest)
        guard let size = FileSystem.fileSize(path) else {
            throw QuiverError(.corrupt, "blob \(digest) is missing from \(blobsDirectory)")
        }
        guard size <= limit else {
            throw QuiverError(.invalidInput, "blob \(digest) is \(size) bytes here, over the \(limit)-byte limit for a manifest or config")
        }
        let bytes = try FileSystem.read(path, limit: limit)
        guard Digest.of(bytes) == digest else {
            throw QuiverError(.corrupt, "blob \(digest) is damaged")
        }
        return bytes
    }

    private func decode(
        stored: UnsafeRawBufferPointer, encoding: BlobEncoding, contentLimit: Int,
        into sink: (UnsafeRawBufferPointer) throws -> Void
    ) throws {
        switch encoding {
        case .raw:
            try sink(stored)
        case .planes:
            try PlaneCoding.decode(stored, contentLimit: contentLimit, into: sink)
        }
    }
}

/// A blob written to a temporary file, waiting for the caller to decide: `commit` makes it visible
/// under its digest; `discard` removes it (for example when identical content is already stored).
public final class PendingBlob {
    public let descriptor: BlobDescriptor
    private let file: TemporaryFile
    private let destination: String
    private var settled = false

    init(descriptor: BlobDescriptor, file: TemporaryFile, destination: String) {
        self.descriptor = descriptor
        self.file = file
        self.destination = destination
    }

    /// Makes the blob visible under its digest. With `syncingDirectory: false` the caller must call
    /// `BlobStore.syncDirectory()` before relying on it (so that many blobs share one folder sync).
    public func commit(syncingDirectory: Bool = true) throws {
        guard !settled else { return }
        settled = true
        do {
            try file.commit(to: destination, syncingDirectory: syncingDirectory)
        } catch {
            file.discard()
            throw error
        }
    }

    /// Puts the blob's bytes on disk (its `commit` is then only a rename).
    func sync() throws {
        guard !settled else { return }
        try file.sync()
    }

    /// Commits many blobs with their fsyncs issued at once, from several threads: the file
    /// system's journal then groups them (on ext4, 16 concurrent fsyncs of small files cost about
    /// a fifth of 16 in a row). Every blob is on disk before any is renamed; the caller syncs the
    /// blob folder (`BlobStore.syncDirectory()`) before cataloguing them.
    public static func commit(_ blobs: [PendingBlob]) throws {
        let threads = min(16, blobs.count)
        if threads > 1 {
            // Blocking system calls: threads of their own, not the (CPU-sized) dispatch pool.
            nonisolated(unsafe) let shared = blobs
            let failures = Locked<[any Error]>([])
            let group = DispatchGroup()
            for start in 0..<threads {
                group.enter()
                Thread {
                    for index in stride(from: start, to: shared.count, by: threads) {
                        do { try shared[index].sync() } catch { failures.withLock { $0.append(error) } }
                    }
                    group.leave()
                }.start()
            }
            group.wait()
            if let first = failures.withLock({ $0.first }) { throw first }
        }
        for blob in blobs { try blob.commit(syncingDirectory: false) }
    }

    public func discard() {
        guard !settled else { return }
        settled = true
        file.discard()
    }

    deinit { discard() }
}
