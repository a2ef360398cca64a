import QuiverModel
import Foundation
import GRDB

/// Named writes: each runs in one IMMEDIATE transaction and leaves the catalog consistent.
extension Catalog {
    /// Raised inside a write when a concurrent writer got there first; the caller retries.
    struct Contention: Error {}

    /// Inserts the rows of blobs not catalogued yet.
    private func insertBlobs(_ blobs: [BlobDescriptor], _ db: Database) throws {
        for blob in blobs where try BlobRow.fetchOne(db, key: blob.digest.description) == nil {
            try BlobRow(blob).insert(db)
        }
    }

    /// Registers a base model, or returns the existing one when the same name already has the same weights.
    func insertBaseModel(_ row: BaseModelRow, files: [FileRow], blobs: [BlobDescriptor], force: Bool) throws -> (BaseModelRow, inserted: Bool) {
        try write { db in
            if let existing = try BaseModelRow.filter(BaseModelRow.Columns.name == row.name).fetchOne(db) {
                if existing.manifestDigest == row.manifestDigest { return (existing, false) }
                // The same files under a manifest an earlier Quiver wrote (its config blob had fewer fields): unchanged.
                let stored = try BaseModelFileRow.filter(Column("baseModelId") == existing.id!).fetchAll(db)
                if existing.digest == row.digest,
                    Set(stored.map { "\($0.name) \($0.blobDigest)" }) == Set(files.map { "\($0.name) \($0.blobDigest)" })
                {
                    return (existing, false)
                }
                guard force else {
                    throw QuiverError(.conflict, "base model '\(row.name)' already exists with other content (\(existing.manifestDigest)); choose another --name")
                }
                let dependents = try ArtifactRow.filter(ArtifactRow.Columns.baseModelId == existing.id!).fetchCount(db)
                guard dependents == 0 else {
                    throw QuiverError(.conflict, "base model '\(row.name)' has \(dependents) adapters; it cannot be replaced")
                }
                try existing.delete(db)
            }
            return (try insertBaseModel(row, files: files, blobs: blobs, db), true)
        }
    }

    /// New engine notes for a base and the versions on it, in one transaction.
    func updateEngineNotes(base: BaseModelRow, note: String?, artifacts: [(artifact: Int64, note: String?)]) throws {
        try write { db in
            try db.execute(sql: "UPDATE baseModel SET engineNote = ? WHERE id = ?", arguments: [note, base.id!])
            for (id, note) in artifacts {
                try db.execute(sql: "UPDATE artifact SET engineNote = ? WHERE id = ?", arguments: [note, id])
            }
        }
    }

    private func insertBaseModel(_ row: BaseModelRow, files: [FileRow], blobs: [BlobDescriptor], _ db: Database) throws -> BaseModelRow {
        try insertBlobs(blobs, db)
        var inserted = row
        try inserted.insert(db)
        for file in files {
            try BaseModelFileRow(baseModelId: inserted.id!, name: file.name, role: file.role, blobDigest: file.blobDigest).insert(db)
        }
        return inserted
    }

    /// Inserts an adapter or fusion version and points `latest` at it. With `replacing`, the row of
    /// that id is deleted first (a forced push over an existing version).
    func insertArtifact(
        _ row: ArtifactRow, files: [FileRow], blobs: [BlobDescriptor], members: [(id: Int64, manifestDigest: String)],
        replacing: Int64?
    ) throws -> ArtifactRow {
        try write { db in try insertArtifact(row, files: files, blobs: blobs, members: members, replacing: replacing, db) }
    }

    private func insertArtifact(
        _ row: ArtifactRow, files: [FileRow], blobs: [BlobDescriptor], members: [(id: Int64, manifestDigest: String)],
        replacing: Int64?, _ db: Database
    ) throws -> ArtifactRow {
        if let replacing {
            try checkNoDependents(of: replacing, db)
            _ = try ArtifactRow.deleteOne(db, key: replacing)
        }
        if try ArtifactRow.filter(ArtifactRow.Columns.task == row.task && ArtifactRow.Columns.version == row.version).fetchCount(db) > 0 {
            throw Contention()
        }
        try insertBlobs(blobs, db)
        var inserted = row
        try inserted.insert(db)
        for file in files {
            try ArtifactFileRow(artifactId: inserted.id!, name: file.name, role: file.role, blobDigest: file.blobDigest).insert(db)
        }
        for (position, member) in members.enumerated() {
            try FusionMemberRow(fusionId: inserted.id!, position: position, memberId: member.id, memberManifestDigest: member.manifestDigest).insert(db)
        }
        try TagRow(task: row.task, name: Reference.latest, artifactId: inserted.id!).save(db)
        return inserted
    }

    // MARK: - Imports

    /// One artifact of an import: rows derived from a verified manifest and config, whose base model
    /// and fusion members (by digest) are resolved inside the transaction — they may be entries of
    /// the same import.
    struct ImportEntry {
        enum Content {
            case base(BaseModelRow)
            case artifact(ArtifactRow, baseDigest: String, memberManifestDigests: [String])
        }

        var content: Content
        var files: [FileRow]
        /// Every blob the entry references (layers, config, manifest), already durable.
        var blobs: [BlobDescriptor]
    }

    enum ImportResult {
        case base(BaseModelRow, added: Bool)
        case artifact(ArtifactRow, Registry.PushOutcome)
    }

    /// Catalogs every entry of an import, dependencies first, in one transaction: all or nothing.
    func importArtifacts(_ entries: [ImportEntry], force: Bool) throws -> [ImportResult] {
        try write { db in
            try entries.map { entry in
                switch entry.content {
                case .base(let row):
                    if let existing = try BaseModelRow.filter(BaseModelRow.Columns.name == row.name).fetchOne(db) {
                        guard existing.manifestDigest == row.manifestDigest else {
                            throw QuiverError(.conflict, "base model '\(row.name)' exists here with other content (\(existing.digest))")
                        }
                        return .base(existing, added: false)
                    }
                    return .base(try insertBaseModel(row, files: entry.files, blobs: entry.blobs, db), added: true)
                case .artifact(var row, let baseDigest, let memberDigests):
                    guard let base = try BaseModelRow.filter(BaseModelRow.Columns.digest == baseDigest).fetchOne(db) else {
                        throw QuiverError(.notFound, "base model \(baseDigest) of \(row.task):\(row.version) is not in the registry")
                    }
                    row.baseModelId = base.id!
                    let members = try memberDigests.map { digest -> (id: Int64, manifestDigest: String) in
                        guard let member = try ArtifactRow.filter(ArtifactRow.Columns.manifestDigest == digest).fetchOne(db) else {
                            throw QuiverError(.notFound, "fusion member \(digest) of \(row.task):\(row.version) is not in the registry")
                        }
                        return (member.id!, digest)
                    }
                    var replacing: Int64?
                    if let existing = try ArtifactRow.filter(ArtifactRow.Columns.task == row.task && ArtifactRow.Columns.version == row.version).fetchOne(db) {
                        if existing.manifestDigest == row.manifestDigest { return .artifact(existing, .unchanged) }
                        guard force else { throw Self.importConflict(existing) }
                        replacing = existing.id
                    }
                    let inserted = try insertArtifact(row, files: entry.files, blobs: entry.blobs, members: members, replacing: replacing, db)
                    return .artifact(inserted, replacing == nil ? .stored : .replaced)
                }
            }
        }
    }

    /// The refusal of an import over a local version with other content.
    static func importConflict(_ existing: ArtifactRow) -> QuiverError {
        QuiverError(.conflict, "\(existing.task):\(existing.version) exists here with other content (\(existing.manifestDigest.prefix(19))…); replacing it needs --force")
    }

    /// Removes a version; `latest` moves to the newest remaining version of the task.
    func deleteArtifact(_ artifact: ArtifactRow) throws {
        try write { db in
            try checkNoDependents(of: artifact.id!, db)
            _ = try ArtifactRow.deleteOne(db, key: artifact.id!)
            try retagLatest(task: artifact.task, db)
        }
    }

    func deleteBaseModel(_ base: BaseModelRow) throws {
        try write { db in
            let dependents = try ArtifactRow.filter(ArtifactRow.Columns.baseModelId == base.id!).fetchAll(db)
            guard dependents.isEmpty else {
                let names = dependents.prefix(5).map { "\($0.task):\($0.version)" }.joined(separator: ", ")
                throw QuiverError(.conflict, "base model '\(base.name)' is used by \(dependents.count) adapters (\(names)); remove them first")
            }
            _ = try BaseModelRow.deleteOne(db, key: base.id!)
        }
    }

    private func checkNoDependents(of artifactId: Int64, _ db: Database) throws {
        let fusions = try ArtifactRow.fetchAll(db, sql: """
            SELECT artifact.* FROM artifact JOIN fusionMember ON fusionMember.fusionId = artifact.id
            WHERE fusionMember.memberId = ? ORDER BY artifact.task, artifact.version
            """, arguments: [artifactId])
        guard fusions.isEmpty else {
            let names = fusions.map { "\($0.task):\($0.version)" }.joined(separator: ", ")
            throw QuiverError(.conflict, "fusion \(names) depends on this adapter; remove the fusion first")
        }
    }

    private func retagLatest(task: String, _ db: Database) throws {
        try db.execute(sql: "DELETE FROM tag WHERE task = ? AND name = ?", arguments: [task, Reference.latest])
        if let newest = try ArtifactRow.filter(ArtifactRow.Columns.task == task)
            .order(ArtifactRow.Columns.createdAt.desc, ArtifactRow.Columns.id.desc).fetchOne(db)
        {
            try TagRow(task: task, name: Reference.latest, artifactId: newest.id!).insert(db)
        }
    }

    /// Deletes blob rows that nothing references and returns them.
    func deleteUnreferencedBlobs() throws -> [BlobRow] {
        try write { db in
            let unreferenced = try BlobRow.fetchAll(db, sql: """
                SELECT * FROM blob WHERE digest NOT IN (
                    SELECT manifestDigest FROM artifact UNION SELECT configDigest FROM artifact
                    UNION SELECT blobDigest FROM artifactFile
                    UNION SELECT manifestDigest FROM baseModel UNION SELECT configDigest FROM baseModel
                    UNION SELECT blobDigest FROM baseModelFile)
                """)
            for row in unreferenced { try row.delete(db) }
            return unreferenced
        }
    }
}
