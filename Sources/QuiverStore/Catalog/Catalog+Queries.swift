import QuiverModel
import Foundation
import GRDB

extension Catalog {
    public func blob(contentDigest: Digest) throws -> BlobRow? {
        try read { db in try BlobRow.filter(BlobRow.Columns.contentDigest == contentDigest.description).fetchOne(db) }
    }

    public func blob(digest: String) throws -> BlobRow? {
        try read { db in try BlobRow.fetchOne(db, key: digest) }
    }

    public func blobs() throws -> [BlobRow] {
        try read { db in try BlobRow.order(BlobRow.Columns.digest).fetchAll(db) }
    }

    public func baseModels() throws -> [BaseModelRow] {
        try read { db in try BaseModelRow.order(BaseModelRow.Columns.name).fetchAll(db) }
    }

    public func baseModel(named name: String) throws -> BaseModelRow? {
        try read { db in try BaseModelRow.filter(BaseModelRow.Columns.name == name).fetchOne(db) }
    }

    public func baseModel(id: Int64) throws -> BaseModelRow? {
        try read { db in try BaseModelRow.fetchOne(db, key: id) }
    }

    public func baseModel(digest: String) throws -> BaseModelRow? {
        try read { db in try BaseModelRow.filter(BaseModelRow.Columns.digest == digest).fetchOne(db) }
    }

    public func baseModelFiles(_ id: Int64) throws -> [FileRow] {
        try read { db in
            try BaseModelFileRow.filter(Column("baseModelId") == id).order(Column("name")).fetchAll(db)
                .map { FileRow(name: $0.name, role: $0.role, blobDigest: $0.blobDigest) }
        }
    }

    /// Every adapter and fusion version, by task then age.
    public func artifacts() throws -> [ArtifactRow] {
        try read { db in try ArtifactRow.order(ArtifactRow.Columns.task, ArtifactRow.Columns.createdAt, ArtifactRow.Columns.id).fetchAll(db) }
    }

    /// The adapter and fusion versions on one base model.
    func artifacts(onBase id: Int64) throws -> [ArtifactRow] {
        try read { db in try ArtifactRow.filter(ArtifactRow.Columns.baseModelId == id).fetchAll(db) }
    }

    public func artifact(id: Int64) throws -> ArtifactRow? {
        try read { db in try ArtifactRow.fetchOne(db, key: id) }
    }

    public func artifact(manifestDigest: String) throws -> ArtifactRow? {
        try read { db in try ArtifactRow.filter(ArtifactRow.Columns.manifestDigest == manifestDigest).fetchOne(db) }
    }

    /// The version a reference names: an exact version, or what `latest` points at.
    public func artifact(_ reference: Reference) throws -> ArtifactRow? {
        try read { db in
            if let version = reference.version {
                return try ArtifactRow.filter(ArtifactRow.Columns.task == reference.task && ArtifactRow.Columns.version == version).fetchOne(db)
            }
            return try ArtifactRow.fetchOne(db, sql: """
                SELECT artifact.* FROM artifact JOIN tag ON tag.artifactId = artifact.id
                WHERE tag.task = ? AND tag.name = ?
                """, arguments: [reference.task, Reference.latest])
        }
    }

    public func versions(of task: String) throws -> [ArtifactRow] {
        try read { db in try ArtifactRow.filter(ArtifactRow.Columns.task == task).order(ArtifactRow.Columns.createdAt, ArtifactRow.Columns.id).fetchAll(db) }
    }

    public func artifactFiles(_ id: Int64) throws -> [FileRow] {
        try read { db in
            try ArtifactFileRow.filter(Column("artifactId") == id).order(Column("name")).fetchAll(db)
                .map { FileRow(name: $0.name, role: $0.role, blobDigest: $0.blobDigest) }
        }
    }

    public func members(ofFusion id: Int64) throws -> [ArtifactRow] {
        try read { db in
            try ArtifactRow.fetchAll(db, sql: """
                SELECT artifact.* FROM artifact JOIN fusionMember ON fusionMember.memberId = artifact.id
                WHERE fusionMember.fusionId = ? ORDER BY fusionMember.position
                """, arguments: [id])
        }
    }

    public func fusions(using id: Int64) throws -> [ArtifactRow] {
        try read { db in
            try ArtifactRow.fetchAll(db, sql: """
                SELECT artifact.* FROM artifact JOIN fusionMember ON fusionMember.fusionId = artifact.id
                WHERE fusionMember.memberId = ? ORDER BY artifact.task, artifact.version
                """, arguments: [id])
        }
    }

    /// Which artifacts and base models use a blob (for `verify` reports).
    public func users(ofBlob digest: String) throws -> [String] {
        try read { db in
            let artifacts = try String.fetchAll(db, sql: """
                SELECT DISTINCT task || ':' || version FROM artifact WHERE manifestDigest = ?1 OR configDigest = ?1
                   OR id IN (SELECT artifactId FROM artifactFile WHERE blobDigest = ?1)
                """, arguments: [digest])
            let bases = try String.fetchAll(db, sql: """
                SELECT DISTINCT 'base ' || name FROM baseModel WHERE manifestDigest = ?1 OR configDigest = ?1
                   OR id IN (SELECT baseModelId FROM baseModelFile WHERE blobDigest = ?1)
                """, arguments: [digest])
            return (artifacts + bases).sorted()
        }
    }

    /// The largest integer version of a task (auto-numbered pushes take the next one).
    public func highestNumericVersion(of task: String) throws -> Int {
        try versions(of: task).compactMap { Int($0.version) }.max() ?? 0
    }
}
