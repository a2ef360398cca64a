import Foundation
import QuiverStore

#if canImport(Glibc)
    import Glibc
#endif

/// Blobs pushed to the server before a manifest takes them into the registry, in `<home>/uploads/`:
///
/// - `sessions/<id>`: uploads in progress (their progress is in memory: a restart forgets them);
/// - `blobs/<hex>`: finished uploads, verified against their digest, waiting for a manifest;
/// - `imports/<id>/`: hard links held by a manifest import while it reads them.
///
/// None of this is in the catalog. Sessions untouched and finished blobs unused for
/// `ServerLimits.uploadLifetime` are deleted. Every path is built from a server-made UUID or a
/// parsed `Digest`, never from request text.
final class UploadStore: Sendable {
    let root: String
    let sessionsFolder: String
    let blobsFolder: String
    let importsFolder: String
    let limits: ServerLimits
    private let sessions = Locked<[UUID: UploadSession]>([:])

    init(home: String, limits: ServerLimits) throws {
        root = home + "/uploads"
        sessionsFolder = root + "/sessions"
        blobsFolder = root + "/blobs"
        importsFolder = root + "/imports"
        self.limits = limits
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
    }

    // MARK: - Sessions

    /// Starts an upload into `repository`.
    ///
    /// - Throws: `TOOMANYREQUESTS` when `ServerLimits.concurrentUploads` are in progress.
    func start(repository: RepositoryName) throws(RegistryError) -> UploadSession {
        expire()
        let session = try UploadSession(id: UUID(), repository: repository, folder: sessionsFolder)
        let admitted = sessions.withLock { sessions in
            guard sessions.count < limits.concurrentUploads else { return false }
            sessions[session.id] = session
            return true
        }
        guard admitted else {
            session.discard()
            throw RegistryError(.tooManyRequests, "\(limits.concurrentUploads) uploads are in progress; try again later", headers: [.retryAfter: "5"])
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

    /// Ends an upload: its content must hash to `digest`; it then becomes a finished blob.
    ///
    /// - Throws: `DIGEST_INVALID` when the bytes do not match (the upload is dropped).
    func finish(_ session: UploadSession, digest: Digest) throws(RegistryError) {
        defer { remove(session) }
        let (actual, size) = try session.finish()
        guard actual == digest else {
            throw RegistryError(.digestInvalid, "uploaded content (\(size) bytes) hashes to \(actual), not \(digest)", detail: ["digest": digest.description])
        }
        guard rename(session.path, stagedPath(digest)) == 0 else {
            throw RegistryError(.blobUploadInvalid, "cannot keep upload \(digest): \(String(cString: strerror(errno)))", status: .internalServerError)
        }
    }

    /// Cancels an upload and deletes what it received.
    func cancel(_ session: UploadSession) { remove(session) }

    private func remove(_ session: UploadSession) {
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
        for digest in digests { unlink(stagedPath(digest)) }
    }

    // MARK: - Expiry

    /// Deletes sessions untouched and finished blobs older than `ServerLimits.uploadLifetime`.
    func expire(now: Date = Date()) {
        let cutoff = now.addingTimeInterval(-limits.uploadLifetime)
        let stale = sessions.withLock { sessions in
            let stale = sessions.values.filter { !$0.isWriting && $0.lastUsed < cutoff }
            for session in stale { sessions.removeValue(forKey: session.id) }
            return stale
        }
        for session in stale { session.discard() }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: blobsFolder)) ?? [] {
            var info = stat()
            let path = blobsFolder + "/" + name
            if stat(path, &info) == 0, Double(info.st_mtim.tv_sec) < cutoff.timeIntervalSince1970 { unlink(path) }
        }
    }
}
