import QuiverModel
import Foundation
import GRDB

/// The registry's SQLite catalog: one database (WAL) indexing blobs, base models, adapters,
/// fusions and tags. Each write method keeps the catalog's invariants in one transaction.
public final class Catalog: Sendable {
    let database: DatabasePool

    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(60)
        configuration.foreignKeysEnabled = true
        configuration.label = "quiver-catalog"
        do {
            database = try DatabasePool(path: path, configuration: configuration)
            try Self.migrator.migrate(database)
        } catch let error as DatabaseError {
            throw QuiverError(.io, "catalog \(path): \(error.message ?? "\(error)")")
        }
    }

    // MARK: - Migrations (never edit a shipped migration; add a new one)

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.create(table: "blob") { t in
                t.primaryKey("digest", .text)
                t.column("size", .integer).notNull()
                t.column("contentDigest", .text).notNull().unique()
                t.column("contentSize", .integer).notNull()
                t.column("encoding", .text).notNull()
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "baseModel") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("name", .text).notNull().unique()
                t.column("digest", .text).notNull()
                t.column("manifestDigest", .text).notNull().references("blob", onDelete: .restrict)
                t.column("configDigest", .text).notNull().references("blob", onDelete: .restrict)
                t.column("modelType", .text).notNull()
                t.column("hiddenSize", .integer).notNull()
                t.column("layerCount", .integer).notNull()
                t.column("headCount", .integer).notNull()
                t.column("intermediateSize", .integer).notNull()
                t.column("vocabSize", .integer).notNull()
                t.column("maxPositions", .integer).notNull()
                t.column("parameters", .integer).notNull()
                t.column("size", .integer).notNull()
                t.column("storedSize", .integer).notNull()
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "baseModelFile") { t in
                t.column("baseModelId", .integer).notNull().references("baseModel", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("role", .text).notNull()
                t.column("blobDigest", .text).notNull().references("blob", onDelete: .restrict)
                t.primaryKey(["baseModelId", "name"])
            }
            try db.create(table: "artifact") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("task", .text).notNull()
                t.column("version", .text).notNull()
                t.column("kind", .text).notNull().check { ["adapter", "fusion"].contains($0) }
                t.column("manifestDigest", .text).notNull().references("blob", onDelete: .restrict)
                t.column("configDigest", .text).notNull().references("blob", onDelete: .restrict)
                t.column("architecture", .text).notNull()
                t.column("format", .text).notNull()
                t.column("baseModelId", .integer).notNull().references("baseModel", onDelete: .restrict)
                t.column("parameters", .integer).notNull()
                t.column("headParameters", .integer).notNull()
                t.column("size", .integer).notNull()
                t.column("storedSize", .integer).notNull()
                t.column("labels", .text).notNull()
                t.column("description", .text).notNull()
                t.column("metadata", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.uniqueKey(["task", "version"])
            }
            try db.create(index: "artifact_on_manifestDigest", on: "artifact", columns: ["manifestDigest"])
            try db.create(index: "artifact_on_baseModelId", on: "artifact", columns: ["baseModelId"])
            try db.create(table: "artifactFile") { t in
                t.column("artifactId", .integer).notNull().references("artifact", onDelete: .cascade)
                t.column("name", .text).notNull()
                t.column("role", .text).notNull()
                t.column("blobDigest", .text).notNull().references("blob", onDelete: .restrict)
                t.primaryKey(["artifactId", "name"])
            }
            try db.create(index: "artifactFile_on_blobDigest", on: "artifactFile", columns: ["blobDigest"])
            try db.create(table: "tag") { t in
                t.column("task", .text).notNull()
                t.column("name", .text).notNull()
                t.column("artifactId", .integer).notNull().references("artifact", onDelete: .cascade)
                t.primaryKey(["task", "name"])
            }
            try db.create(table: "fusionMember") { t in
                t.column("fusionId", .integer).notNull().references("artifact", onDelete: .cascade)
                t.column("position", .integer).notNull()
                t.column("memberId", .integer).notNull().references("artifact", onDelete: .restrict)
                t.column("memberManifestDigest", .text).notNull()
                t.primaryKey(["fusionId", "position"])
            }
        }
        migrator.registerMigration("v2-content-stored-twice") { db in
            // Pulls store a remote's blobs as they are: the same content may then be held under two
            // stored digests (two encodings), so contentDigest is indexed rather than unique.
            try db.create(table: "new_blob") { t in
                t.primaryKey("digest", .text)
                t.column("size", .integer).notNull()
                t.column("contentDigest", .text).notNull()
                t.column("contentSize", .integer).notNull()
                t.column("encoding", .text).notNull()
                t.column("createdAt", .datetime).notNull()
            }
            try db.execute(sql: "INSERT INTO new_blob SELECT digest, size, contentDigest, contentSize, encoding, createdAt FROM blob")
            try db.drop(table: "blob")
            try db.rename(table: "new_blob", to: "blob")
            try db.create(index: "blob_on_contentDigest", on: "blob", columns: ["contentDigest"])
        }
        migrator.registerMigration("v3-any-base-any-adapter") { db in
            // Bases of any family: the model classes and dtypes they were saved with, and why this build's engine
            // cannot run one (NULL: it can); versions likewise.
            try db.alter(table: "baseModel") { t in
                t.add(column: "architectures", .text).notNull().defaults(to: "[]")
                t.add(column: "dtype", .text).notNull().defaults(to: "")
                t.add(column: "engineNote", .text)
            }
            try db.alter(table: "artifact") { t in
                t.add(column: "engineNote", .text)
            }
        }
        migrator.registerMigration("v4-lookups-by-version") { db in
            // One version's tags (`show`) and the fusions over it (`show`, `rm`, the foreign keys' checks on delete)
            // without reading every tag and member row of a large catalog; with the name, the tags of every version in
            // order (`list`) come from the index alone. Versions by task then age (`list`, a task's versions) in index
            // order: at 10,000 versions, half the time of sorting them.
            try db.create(index: "tag_on_artifactId", on: "tag", columns: ["artifactId", "name"])
            try db.create(index: "fusionMember_on_memberId", on: "fusionMember", columns: ["memberId"])
            try db.create(index: "artifact_on_task_createdAt", on: "artifact", columns: ["task", "createdAt"])
        }
        return migrator
    }

    // MARK: - Transactions

    func write<T>(_ updates: (Database) throws -> T) throws -> T {
        do {
            return try database.write(updates)
        } catch let error as DatabaseError {
            throw QuiverError(.io, "catalog write failed: \(error.message ?? "\(error)")")
        }
    }

    func read<T>(_ value: (Database) throws -> T) throws -> T {
        do {
            return try database.read(value)
        } catch let error as DatabaseError {
            throw QuiverError(.io, "catalog read failed: \(error.message ?? "\(error)")")
        }
    }
}
