import Foundation
import QuiverModel
import QuiverStore
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// Blobs pushed to the server before a manifest takes them into the registry, in `<home>/uploads/`:
///
/// - `sessions/<id>`: uploads in progress (their progress is in memory: a restart forgets them);
/// - `blobs/<hex>`: finished uploads, verified against their digest, waiting for a manifest;
/// - `imports/<id>/`: hard links held by a manifest import while it reads them.
///
/// None of this is in the catalog. What it may hold is bounded: uploads in progress (in all, and
/// per client address), and bytes (`StagingBudget`). Sessions that receive nothing for
/// `ServerLimits.uploadIdleTimeout` — also in the middle of a request — and finished blobs unused
/// for `ServerLimits.uploadLifetime` are deleted by `expire`, which `UploadExpiry` runs on a timer.
/// Every path is built from a server-made UUID or a parsed `Digest`, never from request text.
final class UploadStore: Sendable {
    let root: String
    let sessionsFolder: String
    let blobsFolder: String
    let importsFolder: String
    let limits: ServerLimits
    let budget: StagingBudget
    private let sessions = Locked<[UUID: UploadSession]>([:])

    init(home: String, limits: ServerLimits) throws {
        root = home + "/uploads"
        sessionsFolder = root + "/sessions"
        blobsFolder = root + "/blobs"
        importsFolder = root + "/imports"
        self.limits = limits
        budget = StagingBudget(limit: limits.stagedBytes)
        // Sessions and imports of a previous run cannot be resumed.
        for folder in [sessionsFolder, importsFolder] { try? FileManager.default.removeItem(atPath: folder) }
        for folder in [sessionsFolder, blobsFolder, importsFolder] {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw QuiverError(.io, "cannot create \(folder): \(error.localizedDescription)")
            }
        }
        expire()
        // Finished blobs of a previous run still count.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: blobsFolder)) ?? [] {
            var info = stat()
            if stat(blobsFolder + "/" + name, &info) == 0 { try? budget.take(Int(info.st_size)) }
        }
    }

    // MARK: - Sessions

    /// Starts an upload into `repository` for the client at `client` (nil: unknown).
    ///
    /// - Throws: `TOOMANYREQUESTS` when `ServerLimits.concurrentUploads` are in progress, or
    ///   `ServerLimits.uploadsPerClient` of this client's.
    func start(repository: RepositoryName, client: String? = nil) throws(RegistryError) -> UploadSession {
        let session = try UploadSession(id: UUID(), repository: repository, client: client, folder: sessionsFolder, budget: budget)
        let refusal = sessions.withLock { sessions -> String? in
            guard sessions.count < limits.concurrentUploads else { return "\(limits.concurrentUploads) uploads are in progress" }
            if let client, sessions.values.count(where: { $0.client == client }) >= limits.uploadsPerClient {
                return "\(limits.uploadsPerClient) uploads of \(client) are in progress (finish or cancel one)"
            }
            sessions[session.id] = session
            return nil
        }
        if let refusal {
            session.discard()
            throw RegistryError(.tooManyRequests, "\(refusal); try again later", headers: [.retryAfter: "5"])
        }
        return session
    }

    /// The upload `id` of `repository`.
    ///
    /// - Throws: `BLOB_UPLOAD_UNKNOWN` for an unknown (finished, cancelled, expired) upload or one of
    ///   another repository.
    func session(_ id: UUID, repository: RepositoryName) throws(RegistryError) -> UploadSession {
        guard let session = sessions.withLock({ $0[id] }), session.repository == repository else {
            throw RegistryError(.blobUploadUnknown, "upload \(id.uuidString.lowercased()) is unknown to \(repository) (finished, cancelled or expired)")
        }
        return session
    }

    /// Ends an upload (it fsyncs: call it off the cooperative threads): its content must hash to
    /// `digest`; it then becomes a finished blob.
    ///
    /// - Throws: `DIGEST_INVALID` when the bytes do not match (the upload is dropped).
    func finish(_ session: UploadSession, digest: Digest) throws(RegistryError) {
        sessions.withLock { _ = $0.removeValue(forKey: session.id) }
        let (actual, size): (Digest, Int)
        do {
            (actual, size) = try session.finish()
        } catch {
            session.discard()
            throw error
        }
        guard actual == digest else {
            session.discard()
            throw RegistryError(.digestInvalid, "uploaded content (\(size) bytes) hashes to \(actual), not \(digest)", detail: ["digest": digest.description])
        }
        // A link, not a rename: it fails when the same blob is staged already, and one copy is kept.
        if link(session.path, stagedPath(digest)) == 0 {
            session.discard(refund: false)  // its bytes now count as the staged blob's
        } else if errno == EEXIST {
            session.discard()
        } else {
            let reason = String(cString: strerror(errno))
            session.discard()
            throw RegistryError(.blobUploadInvalid, "cannot keep upload \(digest): \(reason)", status: .internalServerError)
        }
    }

    /// Cancels an upload and deletes what it received.
    func cancel(_ session: UploadSession) {
        sessions.withLock { _ = $0.removeValue(forKey: session.id) }
        session.discard()
    }

    var sessionCount: Int { sessions.withLock { $0.count } }

    // MARK: - Finished blobs

    private func stagedPath(_ digest: Digest) -> String { blobsFolder + "/" + digest.hex }

    /// The size of a finished blob, or nil when there is none.
    func stagedSize(_ digest: Digest) -> Int? {
        var info = stat()
        guard stat(stagedPath(digest), &info) == 0 else { return nil }
        return Int(info.st_size)
    }

    /// The path of a finished blob to read now (it may expire later).
    func stagedFile(_ digest: Digest) -> String? { stagedSize(digest) == nil ? nil : stagedPath(digest) }

    /// Reads a small finished blob (a manifest's config), checking its digest again.
    func readStaged(_ digest: Digest, limit: Int) throws -> [UInt8]? {
        guard let size = stagedSize(digest) else { return nil }
        guard size <= limit else { throw QuiverError(.invalidInput, "blob \(digest) is \(size) bytes, more than the \(limit) allowed for a config") }
        guard let data = FileManager.default.contents(atPath: stagedPath(digest)) else { return nil }
        let bytes = [UInt8](data)
        guard Digest.of(bytes) == digest else { throw QuiverError(.corrupt, "uploaded blob \(digest) changed on disk") }
        return bytes
    }

    /// A folder of hard links to finished blobs for one import, so expiry cannot pull them away
    /// while it reads them; delete it with `endImport`.
    func beginImport() throws -> String {
        let folder = importsFolder + "/" + UUID().uuidString.lowercased()
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        return folder
    }

    /// Links a finished blob into an import folder; nil when there is no such blob.
    func pin(_ digest: Digest, into folder: String) -> String? {
        let path = folder + "/" + digest.hex
        if access(path, F_OK) == 0 { return path }
        return link(stagedPath(digest), path) == 0 ? path : nil
    }

    func endImport(_ folder: String) { try? FileManager.default.removeItem(atPath: folder) }

    /// Deletes finished blobs (once the registry holds them).
    func removeStaged(_ digests: some Sequence<Digest>) {
        for digest in digests { removeStaged(at: stagedPath(digest)) }
    }

    private func removeStaged(at path: String) {
        var info = stat()
        guard stat(path, &info) == 0, unlink(path) == 0 else { return }
        budget.give(Int(info.st_size))
    }

    // MARK: - Expiry

    /// Deletes sessions that received nothing for `ServerLimits.uploadIdleTimeout` (a request still
    /// writing to one then fails) and finished blobs older than `ServerLimits.uploadLifetime`.
    func expire(now: Date = Date()) {
        let idleCutoff = now.addingTimeInterval(-limits.uploadIdleTimeout)
        let stale = sessions.withLock { sessions in
            let stale = sessions.values.filter { $0.lastUsed < idleCutoff }
            for session in stale { sessions.removeValue(forKey: session.id) }
            return stale
        }
        for session in stale { session.discard() }
        let cutoff = now.addingTimeInterval(-limits.uploadLifetime)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: blobsFolder)) ?? [] {
            var info = stat()
            let path = blobsFolder + "/" + name
            if stat(path, &info) == 0, Double(info.st_mtim.tv_sec) < cutoff.timeIntervalSince1970 { removeStaged(at: path) }
        }
    }
}

/// Runs `UploadStore.expire` every `interval` seconds while the server runs, so that abandoned
/// uploads go away even when no client starts another.
struct UploadExpiry: Service {
    let uploads: UploadStore
    let interval: TimeInterval

    func run() async throws {
        let uploads = uploads
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
                    try await BlockingWork.run(.io) { uploads.expire() }
                } catch {
                    return  // cancelled: the server is stopping
                }
            }
        }
    }
}
