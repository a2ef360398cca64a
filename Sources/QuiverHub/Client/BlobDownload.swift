import AsyncHTTPClient
import Foundation
import NIOCore
import QuiverModel
import QuiverStore
#if canImport(Glibc)
import Glibc
#endif

/// Downloads one blob to a file, hashing while it streams to disk, and resumes where it stopped:
/// bytes already received stay in `<hex>.part` in the registry's temporary folder, so an interrupted
/// download (a dropped connection now, or a pull interrupted earlier) continues with a `Range`
/// request. Nothing reaches `destination` unless its SHA-256 and size match the descriptor.
struct BlobDownload {
    let client: DistributionClient
    let repository: String
    let digest: Digest
    let size: Int
    /// Where unfinished bytes are kept between attempts and runs.
    let partPath: String
    let destination: String
    let progress: TransferProgress

    struct Outcome {
        /// Bytes received over the network.
        var transferred: Int
        /// Bytes reused from an earlier, interrupted download.
        var resumed: Int
    }

    func run() async throws -> Outcome {
        let part = try PartFile(preferred: partPath)
        defer { part.close() }
        do {
            return try await run(part)
        } catch {
            // Cancelled because another blob of the pull failed: leave nothing behind.
            if Task.isCancelled { part.discard() }
            throw error
        }
    }

    private func run(_ part: PartFile) async throws -> Outcome {
        var outcome = Outcome(transferred: 0, resumed: 0)
        var hasher = DigestHasher()
        var offset = try part.prepare(limit: size, into: &hasher)
        outcome.resumed = offset
        var failures = 0
        var restarted = false
        progress.started(total: size, already: offset)
        while true {
            if offset < size {
                do {
                    try await receive(into: part, offset: &offset, hasher: &hasher, received: &outcome.transferred)
                } catch let error as QuiverError where error.kind == .io && !Task.isCancelled {
                    failures += 1
                    guard failures <= client.options.resumeAttempts else { throw error }
                    continue  // resume from `offset` with a Range request
                }
            }
            if offset == size, hasher.finalize() == digest { break }
            // Wrong bytes. Stale bytes from an earlier run may be at fault: start over once.
            if outcome.resumed > 0, !restarted {
                restarted = true
                outcome.resumed = 0
                try part.truncate()
                hasher = DigestHasher()
                offset = 0
                progress.started(total: size, already: 0)
                continue
            }
            part.discard()
            throw QuiverError(
                .corrupt,
                "blob \(digest) from \(client.location)/\(repository) is damaged: its \(offset) bytes hash to \(hasher.finalize()); nothing was stored")
        }
        try part.finish(to: destination)
        progress.finished()
        return outcome
    }

    /// One GET from `offset`: appends the body to the part file, counting the bytes in `received`
    /// (also when the connection drops).
    private func receive(into part: PartFile, offset: inout Int, hasher: inout DigestHasher, received: inout Int) async throws {
        let response = try await client.openBlob(digest, in: repository, from: offset)
        if offset > 0 {
            let range = response.headers.first(name: "Content-Range") ?? ""
            if response.status != .partialContent || !range.hasPrefix("bytes \(offset)-") {
                // The remote ignored the range: take the whole blob again.
                try part.truncate()
                hasher = DigestHasher()
                offset = 0
                progress.started(total: size, already: 0)
            }
        }
        do {
            for try await buffer in response.body {
                guard offset + buffer.readableBytes <= size else {
                    throw QuiverError(.corrupt, "blob \(digest) from \(client.location)/\(repository) is longer than its \(size) bytes")
                }
                try buffer.withUnsafeReadableBytes { bytes in
                    hasher.update(bytes)
                    try part.append(bytes)
                }
                offset += buffer.readableBytes
                received += buffer.readableBytes
                progress.advanced(to: offset)
            }
        } catch let error as QuiverError {
            if error.kind == .corrupt { part.discard() }
            throw error
        } catch {
            throw QuiverError(.io, "download of blob \(digest) from \(client.location) was interrupted at byte \(offset): \(client.describe(error))")
        }
    }
}

/// The file a download appends to, locked (`TemporaryOwnership`) so that two pulls of one blob never
/// share it and `gc` leaves it alone while it is written. When the preferred (resumable) name is held
/// by another download, a private name is used instead.
final class PartFile {
    private(set) var path: String
    private var descriptor: Int32 = -1
    private var resumable = true

    init(preferred: String) throws {
        path = preferred
        for _ in 0..<8 {
            descriptor = open(preferred, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw error("cannot create") }
            if flock(descriptor, LOCK_EX | LOCK_NB) == 0 {
                var status = stat()
                if fstat(descriptor, &status) == 0, status.st_nlink > 0 { return }
                Glibc.close(descriptor)  // removed by a collector between open and lock: open it again
                continue
            }
            Glibc.close(descriptor)
            path = preferred + ".\(UInt64.random(in: 0...UInt64.max))"
            resumable = false
            descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw error("cannot create") }
            if TemporaryOwnership.claim(descriptor) { return }
            Glibc.close(descriptor)
            path = preferred
            resumable = true
        }
        throw QuiverError(.io, "cannot create \(preferred): it is removed as soon as it is made")
    }

    /// Hashes the bytes already there (from an interrupted download) and returns their count; a file
    /// longer than the blob is emptied.
    func prepare(limit: Int, into hasher: inout DigestHasher) throws -> Int {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw error("cannot read") }
        let existing = Int(status.st_size)
        if existing > limit {
            try truncate()
            return 0
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset = 0
        while offset < existing {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress!, min($0.count, existing - offset), off_t(offset)) }
            guard count > 0 else {
                if count < 0, errno == EINTR { continue }
                throw error("cannot read")
            }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            offset += count
        }
        guard lseek(descriptor, off_t(existing), SEEK_SET) >= 0 else { throw error("cannot seek in") }
        return existing
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw error("cannot write")
            }
            offset += written
        }
    }

    func truncate() throws {
        guard ftruncate(descriptor, 0) == 0, lseek(descriptor, 0, SEEK_SET) >= 0 else { throw error("cannot empty") }
    }

    /// Moves the complete, verified file to `destination` (still locked while it moves). Not synced:
    /// the import writes what it stores, and syncs that.
    func finish(to destination: String) throws {
        guard rename(path, destination) == 0 else { throw error("cannot move") }
        resumable = true  // gone from its name: nothing to remove
        close()
    }

    /// Removes the file (its bytes are wrong).
    func discard() {
        unlink(path)
        close()
    }

    func close() {
        if !resumable { unlink(path) }
        if descriptor >= 0 {
            Glibc.close(descriptor)
            descriptor = -1
        }
    }

    private func error(_ what: String) -> QuiverError {
        QuiverError(.io, "\(what) \(path): \(String(cString: strerror(errno)))")
    }
}
