import Foundation
import GRDB

/// Named writes: each runs in one IMMEDIATE transaction and leaves the catalog consistent.
extension Catalog {
    /// Raised inside a write when a concurrent writer got there first; the caller retries.
    struct Contention: Error {}

    /// Inserts blob rows, reusing the row of identical content already present.
    /// Throws `Contention` when the same content is catalogued under another stored digest.
    private func insertBlobs(_ blobs: [BlobDescriptor], _ db: Database) throws {
        for blob in blobs {
            if let existing = try BlobRow.filter(BlobRow.Columns.contentDigest == blob.contentDigest.description).fetchOne(db) {
                guard existing.digest == blob.digest.description else { throw Contention() }
                continue
            }
            try BlobRow(blob).insert(db)
        }
    }

    /// Registers a base model, or returns the existing one when the same name already has the same weights.
    func insertBaseModel(_ row: BaseModelRow, files: [FileRow], blobs: [BlobDescriptor], force: Bool) throws -> (BaseModelRow, inserted: Bool) {
        try write { db in
            if var existing = try BaseModelRow.filter(BaseModelRow.Columns.name == row.name).fetchOne(db) {
                if existing.manifestDigest == row.manifestDigest { return (existing, false) }
                guard force else {
                    throw QuiverError(.conflict, "base model '\(row.name)' already exists with other content (\(existing.manifestDigest)); choose another --name")
                }
                let dependents = try ArtifactRow.filter(ArtifactRow.Columns.baseModelId == existing.id!).fetchCount(db)
                guard dependents == 0 else {
                    throw QuiverError(.conflict, "base model '\(row.name)' has \(dependents) adapters; it cannot be replaced")
                }
                try existing.delete(db)
            }
            try insertBlobs(blobs, db)
            var inserted = row
            try inserted.insert(db)
            for file in files {
                try BaseModelFileRow(baseModelId: inserted.id!, name: file.name, role: file.role, blobDigest: file.blobDigest).insert(db)
            }
            return (inserted, true)
        }
    }

    /// Inserts an adapter or fusion version and points `latest` at it. With `replacing`, the row of
    /// that id is deleted first (a forced push over an existing version).
    func insertArtifact(
        _ row: ArtifactRow, files: [FileRow], blobs: [BlobDescriptor], members: [(id: Int64, manifestDigest: String)],
        replacing: Int64?
    ) throws -> ArtifactRow {
        try write { db in
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
