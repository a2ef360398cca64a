import Foundation
import NIOCore
import QuiverModel
import QuiverStore
#if canImport(Glibc)
import Glibc
#endif

/// Sends one locally stored blob to a repository unless it is there already: `HEAD` first, then a
/// cross-repository mount when another repository of the remote is known to hold it, else an
/// upload — a blob up to `monolithicLimit` whole, in the `POST` itself when the remote takes that
/// (one request), else in one `PUT`; chunked `PATCH`es beyond.
struct BlobUpload {
    enum Outcome {
        case exists, mounted, uploaded
    }

    let client: DistributionClient
    let repository: String
    let descriptor: Descriptor
    /// The stored bytes.
    let path: String
    /// Repositories of the remote that may hold the blob, tried (one) for a mount.
    let mountSources: [String]
    let progress: TransferProgress

    func run() async throws -> Outcome {
        if try await client.blobExists(descriptor.digest, in: repository) {
            progress.finished(.exists)
            return .exists
        }
        let file = try StoredBlobFile(path: path, digest: descriptor.digest, size: descriptor.size)
        defer { file.close() }
        var whole: ByteBuffer?
        if descriptor.size <= client.options.monolithicLimit {
            whole = try file.read(at: 0, count: descriptor.size)
            try file.checkDigest()
        }
        let inPost = mountSources.isEmpty && client.takesBlobsInPost.withLock { $0 }
        let start = try await client.startUpload(
            into: repository, mounting: mountSources.first.map { _ in descriptor.digest }, from: mountSources.first,
            whole: inPost ? whole.map { ($0, descriptor.digest) } : nil)
        if start == .mounted {
            progress.finished(.mounted)
            return .mounted
        }
        progress.started(total: descriptor.size, already: 0)
        switch start {
        case .mounted, .stored:
            break
        case .session(let session, _) where whole != nil:
            try await client.finishUpload(at: session, digest: descriptor.digest, bytes: whole, repository: repository)
        case .session(let session, let minimumChunk):
            let chunk = max(client.options.chunkSize, minimumChunk ?? 0)
            var location = session
            var offset = 0
            while offset < descriptor.size {
                let count = min(chunk, descriptor.size - offset)
                let bytes = try file.read(at: offset, count: count)
                location = try await client.uploadChunk(bytes, at: location, offset: offset, repository: repository)
                offset += count
                progress.advanced(to: offset)
            }
            try file.checkDigest()
            try await client.finishUpload(at: location, digest: descriptor.digest, bytes: nil, repository: repository)
        }
        progress.advanced(to: descriptor.size)
        progress.finished(.uploaded)
        return .uploaded
    }
}

/// A blob file of the local store read in order, hashed on the way so that a damaged local blob
/// is named as such instead of being refused by the remote.
final class StoredBlobFile {
    let path: String
    let digest: Digest
    let size: Int
    private var descriptor: Int32
    private var hasher = DigestHasher()

    init(path: String, digest: Digest, size: Int) throws {
        self.path = path
        self.digest = digest
        self.size = size
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw QuiverError(.corrupt, "blob \(digest) is missing from the local registry (\(path)); run `quiver verify`")
        }
    }

    /// `count` bytes at `offset` (reads are sequential).
    func read(at offset: Int, count: Int) throws -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        let received = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { target in
            var done = 0
            while done < count {
                let n = pread(descriptor, target.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0, errno == EINTR { continue }
                if n <= 0 { break }
                done += n
            }
            return done
        }
        guard received == count else {
            throw QuiverError(.corrupt, "local blob \(digest) is shorter than its \(size) bytes; run `quiver verify`")
        }
        buffer.withUnsafeReadableBytes { hasher.update($0) }
        return buffer
    }

    /// Checks the bytes read so far against the digest (once all were read).
    func checkDigest() throws {
        guard hasher.count == size, hasher.finalize() == digest else {
            throw QuiverError(.corrupt, "local blob \(digest) is damaged (its bytes hash to \(hasher.finalize())); run `quiver verify`")
        }
    }

    func close() {
        if descriptor >= 0 {
            Glibc.close(descriptor)
            descriptor = -1
        }
    }
}
