import Foundation
import Hummingbird
import QuiverModel
import QuiverStore

#if canImport(Glibc)
    import Glibc
#endif

/// One blob upload in progress: a file the chunks are appended to, in order, hashed on the way.
///
/// One request at a time writes to a session (a second one is refused), so the offset a client
/// reads back is exactly what the file holds. Every byte is charged to the store's `StagingBudget`
/// before it is written.
final class UploadSession: Sendable {
    let id: UUID
    let repository: RepositoryName
    /// The client's IP address (nil for requests made in process).
    let client: String?
    /// `<home>/uploads/sessions/<id>` (the id is a UUID the server made, never client text).
    let path: String
    private let budget: StagingBudget

    private struct State {
        var descriptor: Int32
        var offset = 0
        var hasher = DigestHasher()
        var writing = false
        var lastUsed = Date()
        /// Expired or cancelled: its file is gone and it takes no more bytes.
        var discarded = false
        /// A write failed (the disk is full…): what the file holds is unknown, so it takes no more bytes.
        var broken = false
    }

    private let state: Locked<State>

    init(id: UUID, repository: RepositoryName, client: String?, folder: String, budget: StagingBudget) throws(RegistryError) {
        self.id = id
        self.repository = repository
        self.client = client
        self.budget = budget
        path = folder + "/" + id.uuidString.lowercased()
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw RegistryError(.blobUploadInvalid, "cannot create an upload file: \(String(cString: strerror(errno)))", status: .internalServerError)
        }
        state = Locked(State(descriptor: descriptor))
    }

    /// Bytes received so far.
    var offset: Int { state.withLock { $0.offset } }

    var lastUsed: Date { state.withLock { $0.lastUsed } }

    /// Claims the session for one request's chunk.
    ///
    /// - Parameter start: the chunk's first byte (`Content-Range`), which must be the current offset.
    /// - Throws: `BLOB_UPLOAD_INVALID` (416) when `start` is not where the upload stands, or another
    ///   request is writing; `BLOB_UPLOAD_UNKNOWN` once the upload has expired.
    func beginWrite(at start: Int?) throws(RegistryError) {
        try state.withLock { (state: inout State) throws(RegistryError) in
            guard !state.discarded else { throw expiredError }
            guard !state.broken else { throw brokenError }
            guard !state.writing else {
                throw RegistryError(.blobUploadInvalid, "upload \(id) is receiving another chunk", status: .rangeNotSatisfiable, headers: Self.rangeHeaders(state.offset))
            }
            if let start, start != state.offset {
                throw RegistryError(.blobUploadInvalid, "chunk starts at byte \(start) but upload \(id) holds \(state.offset) bytes", status: .rangeNotSatisfiable, headers: Self.rangeHeaders(state.offset))
            }
            state.writing = true
            state.lastUsed = Date()
        }
    }

    /// Appends a chunk's next bytes (a blocking write: call it off the cooperative threads).
    ///
    /// - Throws: `SIZE_INVALID` (413) when the upload would pass `limit` bytes, `TOOMANYREQUESTS` when
    ///   the server's staging space is full, `BLOB_UPLOAD_UNKNOWN` once the upload has expired.
    func append(_ buffer: ByteBuffer, limit: Int) throws(RegistryError) {
        try state.withLock { (state: inout State) throws(RegistryError) in
            guard !state.discarded else { throw expiredError }
            guard !state.broken else { throw brokenError }
            guard buffer.readableBytes <= limit - state.offset else {
                throw RegistryError(.sizeInvalid, "upload \(id) passes the server's limit of \(limit) bytes per blob", status: .contentTooLarge)
            }
            try budget.take(buffer.readableBytes)
            let failure: Int32? = buffer.withUnsafeReadableBytes { bytes in
                state.hasher.update(bytes)
                var written = 0
                while written < bytes.count {
                    let result = write(state.descriptor, bytes.baseAddress! + written, bytes.count - written)
                    if result < 0 {
                        if errno == EINTR { continue }
                        return errno
                    }
                    written += result
                }
                return nil
            }
            if let failure {
                state.broken = true
                budget.give(buffer.readableBytes)
                throw RegistryError(.blobUploadInvalid, "cannot write upload \(id): \(String(cString: strerror(failure)))", status: .internalServerError)
            }
            state.offset += buffer.readableBytes
            state.lastUsed = Date()
        }
    }

    /// Releases the session after a chunk (whether it arrived whole or not).
    func endWrite() {
        state.withLock {
            $0.writing = false
            $0.lastUsed = Date()
        }
    }

    /// The digest and size of everything received; flushes the file to disk and closes it.
    func finish() throws(RegistryError) -> (digest: Digest, size: Int) {
        try state.withLock { (state: inout State) throws(RegistryError) in
            guard !state.discarded, state.descriptor >= 0 else {
                throw RegistryError(.blobUploadUnknown, "upload \(id) is already finished or expired")
            }
            guard !state.broken else { throw brokenError }
            let synced = fsync(state.descriptor) == 0
            close(state.descriptor)
            state.descriptor = -1
            guard synced else {
                throw RegistryError(.blobUploadInvalid, "cannot save upload \(id): \(String(cString: strerror(errno)))", status: .internalServerError)
            }
            return (state.hasher.finalize(), state.offset)
        }
    }

    /// Closes the file and deletes it, giving its bytes back to the budget (a finished upload's
    /// bytes now belong to its staged blob: pass `refund: false`).
    func discard(refund: Bool = true) {
        let released = state.withLock { state -> Int in
            if state.descriptor >= 0 { close(state.descriptor) }
            state.descriptor = -1
            guard !state.discarded else { return 0 }
            state.discarded = true
            return state.offset
        }
        unlink(path)
        if refund { budget.give(released) }
    }

    private var brokenError: RegistryError {
        RegistryError(.blobUploadInvalid, "upload \(id.uuidString.lowercased()) could not be written; start it again", status: .internalServerError)
    }

    private var expiredError: RegistryError {
        RegistryError(.blobUploadUnknown, "upload \(id.uuidString.lowercased()) expired or was cancelled")
    }

    /// `Range: 0-<last byte>` as the spec reports an upload's progress (`0-0` before any byte).
    static func rangeHeaders(_ offset: Int) -> HTTPFields {
        [.range: "0-\(max(offset - 1, 0))"]
    }
}

/// The bytes the server holds for manifests to come (uploads in progress and finished blobs), and
/// its bound: `take` refuses what would pass it.
final class StagingBudget: Sendable {
    let limit: Int
    private let used = Locked(0)

    init(limit: Int) { self.limit = limit }

    var bytesUsed: Int { used.withLock { $0 } }

    /// - Throws: `TOOMANYREQUESTS` (with `Retry-After`) when `count` more bytes would pass the limit.
    func take(_ count: Int) throws(RegistryError) {
        try used.withLock { (used: inout Int) throws(RegistryError) in
            guard count <= limit - used else {
                throw RegistryError(
                    .tooManyRequests, "the server holds \(used) bytes of uploads waiting for manifests, its limit; try again later",
                    headers: [.retryAfter: "60"])
            }
            used += count
        }
    }

    func give(_ count: Int) { used.withLock { $0 = max(0, $0 - count) } }
}
