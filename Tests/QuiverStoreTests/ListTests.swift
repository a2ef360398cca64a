import Foundation
import GRDB
import Testing
import QuiverTensor
@testable import QuiverStore
import QuiverModel

/// `list` and `show` read the same summaries: what `JSONEncoder` makes of them is what `JSONWriter` writes of their
/// `json`, and one version is found among thousands through the catalog's indexes.
@Suite struct ListTests {
    /// A fusion, a version with two tags, one this build does not run, and a description with quotes, a backslash, a
    /// slash, a tab, a C1 control and accents.
    static func variedRegistry() throws -> Workspace {
        let workspace = try Workspace.withBase()
        let registry = workspace.registry
        try registry.push(Reference(parsing: "sentiment"), folder: workspace.sample("sentiment"), description: "say \"hi\" \\ / \t\u{85} déjà")
        try registry.push(Reference(parsing: "topic:v2"), folder: workspace.sample("topic"))
        try registry.importFusion(
            members: [Reference(parsing: "sentiment"), Reference(parsing: "topic:v2")], as: Reference(parsing: "review"),
            folder: workspace.sample("review-fusion"))
        try registry.catalog.database.write { db in
            try db.execute(sql: "UPDATE artifact SET engineNote = 'prefix_tuning: stored and distributed' WHERE task = 'topic'")
            try db.execute(sql: "INSERT INTO tag SELECT task, 'stable', artifactId FROM tag WHERE task = 'sentiment'")
        }
        return workspace
    }

    @Test func summaryJSONIsWhatJSONEncoderWrites() throws {
        let workspace = try Self.variedRegistry()
        let listed = try workspace.registry.list()
        #expect(listed.map(\.task) == ["review", "sentiment", "topic"])
        #expect(listed[0].members == ["sentiment:1", "topic:v2"] && listed[1].tags == ["latest", "stable"] && listed[2].engineNote != nil)

        let pretty = JSONEncoder()
        pretty.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        pretty.dateEncodingStrategy = .iso8601
        var written: [UInt8] = []
        JSONWriter.writePrettyArray(listed.lazy.map(\.json), escapingTerminalControls: false) { written += $0 }
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: try pretty.encode(listed), as: UTF8.self))

        let compact = JSONEncoder()
        compact.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        compact.dateEncodingStrategy = .iso8601
        #expect(JSONWriter.serialize(.array(listed.map(\.json))) == String(decoding: try compact.encode(listed), as: UTF8.self))
    }

    @Test func showSummarizesAsListDoes() throws {
        let workspace = try Self.variedRegistry()
        for entry in try workspace.registry.list() {
            #expect(try workspace.registry.show(Reference(task: entry.task, version: entry.version)).summary == entry)
        }
        #expect(try workspace.registry.show(Reference(parsing: "sentiment")).usedBy == ["review:1"])
    }

    /// 2,000 more versions (200 tasks of 10, copies of a pushed one in the catalog): `show` finds each by name or tag,
    /// and none of its lookups reads a whole table.
    @Test func showFindsOneVersionAmongThousandsThroughIndexes() throws {
        let workspace = try Workspace.withBase()
        let registry = workspace.registry
        let pushed = try registry.push(Reference(parsing: "seed"), folder: workspace.sample("sentiment")).artifact
        try registry.catalog.database.write { db in
            try db.execute(sql: """
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 1999)
                INSERT INTO artifact (task, version, kind, manifestDigest, configDigest, architecture, format, baseModelId,
                                      parameters, headParameters, size, storedSize, labels, description, metadata, createdAt)
                SELECT printf('task-%03d', i / 10), i % 10 + 1, kind, manifestDigest, configDigest, architecture, format,
                       baseModelId, parameters + i, headParameters, size, storedSize, labels, description, metadata,
                       strftime('%Y-%m-%d %H:%M:%f', createdAt, '+' || i || ' seconds')
                FROM n JOIN artifact ON artifact.id = ?
                """, arguments: [pushed.id!])
            try db.execute(sql: "INSERT INTO tag SELECT task, 'latest', max(id) FROM artifact WHERE task LIKE 'task-%' GROUP BY task")
        }
        let listed = try registry.list()
        #expect(listed.count == 2001)
        #expect(listed.map(\.task) == listed.map(\.task).sorted())
        #expect(listed.filter { $0.task == "task-123" }.map(\.version) == (1...10).map(String.init))

        let seventh = try registry.show(Reference(parsing: "task-123:7")).summary
        #expect(seventh.parameters == pushed.parameters + 1236 && seventh.tags.isEmpty)
        let latest = try registry.show(Reference(parsing: "task-123")).summary
        #expect(latest.version == "10" && latest.tags == ["latest"])
        #expect(listed.contains(latest))

        let lookups = [
            "SELECT * FROM artifact WHERE task = 'task-123' AND version = '7'",
            "SELECT artifact.* FROM artifact JOIN tag ON tag.artifactId = artifact.id WHERE tag.task = 'task-123' AND tag.name = 'latest'",
            "SELECT * FROM artifact WHERE manifestDigest = 'sha256:0'",
            "SELECT artifactId, name FROM tag WHERE artifactId = 5",
            "SELECT * FROM fusionMember WHERE fusionId = 5",
            "SELECT * FROM fusionMember WHERE memberId = 5",
            "SELECT * FROM artifactFile WHERE artifactId = 5",
        ]
        try registry.catalog.database.read { db in
            for sql in lookups {
                let plan = try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }
                #expect(!plan.contains { $0.hasPrefix("SCAN") }, "\(sql): \(plan)")
            }
        }
    }
}
