import QuiverModel
import Foundation

extension Registry {
    /// Removes one version (`latest` moves to the newest remaining) and the blobs only it used.
    /// Refused while a fusion depends on it.
    @discardableResult
    public func remove(_ reference: Reference) throws -> ArtifactRow {
        try locked(.exclusive) {
            let artifact = try resolve(reference)
            try catalog.deleteArtifact(artifact)
            try pruneUnreferencedBlobs()
            return artifact
        }
    }

    public struct CollectionReport: Sendable {
        public var blobsRemoved = 0
        public var bytesFreed = 0
        public var temporaryFilesRemoved = 0
    }

    /// Removes blobs nothing references and leftovers of interrupted writes. Holds the registry
    /// lock exclusively, so it never touches a blob a concurrent push is writing.
    @discardableResult
    public func collectGarbage() throws -> CollectionReport {
        try locked(.exclusive) { try pruneUnreferencedBlobs() }
    }

    /// Call with the exclusive lock held.
    @discardableResult
    func pruneUnreferencedBlobs() throws -> CollectionReport {
        var report = CollectionReport()
        for row in try catalog.deleteUnreferencedBlobs() {
            let digest = try Digest(parsing: row.digest)
            if blobs.contains(digest) {
                blobs.remove(digest)
                report.blobsRemoved += 1
                report.bytesFreed += row.size
            }
        }
        let known = Set(try catalog.blobs().map(\.digest))
        for digest in blobs.storedDigests() where !known.contains(digest.description) {
            report.bytesFreed += FileSystem.fileSize(blobs.path(of: digest)) ?? 0
            blobs.remove(digest)
            report.blobsRemoved += 1
        }
        report.temporaryFilesRemoved = removeAbandonedTemporaryFiles(keepingDownloads: false)
        return report
    }

    /// Removes the entries of `tmp/` that no live process owns (see `TemporaryOwnership`): what killed
    /// commands left. Needs no registry lock, as live entries stay locked by their owner; run whenever
    /// a registry is opened, so the next command after a crash cleans up. Unfinished downloads
    /// (`download-<hex>.part`) are kept there for the next pull to resume, and left to `gc`.
    @discardableResult
    func removeAbandonedTemporaryFiles(keepingDownloads: Bool = true) -> Int {
        var removed = 0
        for name in FileSystem.contentsOfDirectory(blobs.temporaryDirectory) {
            if keepingDownloads, BlobStore.isDownload(name) { continue }
            if TemporaryOwnership.removeIfAbandoned(blobs.temporaryDirectory + "/" + name) { removed += 1 }
        }
        return removed
    }

    public struct VerificationReport: Sendable {
        public struct Damage: Sendable {
            public var digest: String
            public var problem: String
            /// The versions and base models this blob belongs to.
            public var users: [String]
        }

        public var blobsChecked = 0
        public var bytesChecked = 0
        public var damaged: [Damage] = []
        public var isIntact: Bool { damaged.isEmpty }
    }

    /// Recomputes the digest of every catalogued blob (stored bytes and decoded content).
    public func verify() throws -> VerificationReport {
        try locked(.shared) {
            var report = VerificationReport()
            for row in try catalog.blobs() {
                report.blobsChecked += 1
                report.bytesChecked += row.size
                do {
                    try blobs.read(try row.descriptor()) { _ in }
                } catch {
                    report.damaged.append(.init(digest: row.digest, problem: "\(error)", users: try catalog.users(ofBlob: row.digest)))
                }
            }
            return report
        }
    }
}
