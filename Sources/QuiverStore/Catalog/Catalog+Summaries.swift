import Foundation
import GRDB
import QuiverModel
import QuiverTensor

extension Catalog {
    /// The rows of `quiver list`: every version by task then age, or only version `id`. A few queries in one read
    /// (bases, tags, fusion members, then the versions), columns read by position: with 10,000 versions, decoding
    /// records through `Codable` and a query per fusion took longer than all the rest of `quiver list`. The creation
    /// time comes as milliseconds since 1970 from SQLite: decoding its text through `Calendar` took a tenth of the read.
    func summaries(of id: Int64? = nil) throws -> [ArtifactSummary] {
        let arguments: StatementArguments = id.map { [$0] } ?? []
        func only(_ column: String) -> String { id == nil ? "" : "WHERE \(column) = ?" }
        return try read { db in
            var bases: [Int64: (name: String, digest: String)] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, name, digest FROM baseModel") {
                bases[try row.decode(atIndex: 0)] = (try row.decode(atIndex: 1), try row.decode(atIndex: 2))
            }
            let tags = try Self.texts(db, arguments, sql: """
                SELECT artifactId, name FROM tag \(only("artifactId")) ORDER BY artifactId, name
                """)
            let members = try Self.texts(db, arguments, sql: """
                SELECT fusionMember.fusionId, artifact.task || ':' || artifact.version
                FROM fusionMember JOIN artifact ON artifact.id = fusionMember.memberId
                \(only("fusionMember.fusionId")) ORDER BY fusionMember.fusionId, fusionMember.position
                """)
            var summaries: [ArtifactSummary] = []
            summaries.reserveCapacity(try Int.fetchOne(db, sql: "SELECT count(*) FROM artifact \(only("id"))", arguments: arguments) ?? 0)
            var labels: [String: [String]] = [:]  // versions of a task mostly share their labels: parse each list once
            let rows = try Row.fetchCursor(db, sql: """
                SELECT id, task, version, kind, architecture, parameters, headParameters, size, storedSize, baseModelId,
                       manifestDigest, labels, description, CAST(round((julianday(createdAt) - 2440587.5) * 86400000) AS INTEGER),
                       engineNote
                FROM artifact \(only("id")) ORDER BY task, createdAt, id
                """, arguments: arguments)
            while let row = try rows.next() {
                let id: Int64 = try row.decode(atIndex: 0)
                let base = bases[try row.decode(atIndex: 9)]
                let labelsJSON: String = try row.decode(atIndex: 11)
                if labels[labelsJSON] == nil { labels[labelsJSON] = Self.labelNames(labelsJSON) }
                let engineNote: String? = try row.decode(atIndex: 14)
                let milliseconds: Int64 = try row.decode(atIndex: 13)
                summaries.append(ArtifactSummary(
                    task: try row.decode(atIndex: 1), version: try row.decode(atIndex: 2),
                    // Enums from their names: GRDB's generic decoding of them took longer than the rest of the row.
                    kind: try Self.kind(try row.decode(atIndex: 3)), architecture: AdapterKind(rawValue: try row.decode(atIndex: 4)),
                    parameters: try row.decode(atIndex: 5), headParameters: try row.decode(atIndex: 6), size: try row.decode(atIndex: 7),
                    storedSize: try row.decode(atIndex: 8), base: base?.name ?? "?", baseDigest: base?.digest ?? "",
                    digest: try row.decode(atIndex: 10), tags: tags[id] ?? [], labels: labels[labelsJSON]!, members: members[id] ?? [],
                    description: try row.decode(atIndex: 12), created: Date(timeIntervalSince1970: Double(milliseconds) / 1000),
                    runnable: engineNote == nil, engineNote: engineNote))
            }
            return summaries
        }
    }

    /// The texts of `(id, text)` rows, grouped by id in row order.
    private static func texts(_ db: Database, _ arguments: StatementArguments, sql: String) throws -> [Int64: [String]] {
        var texts: [Int64: [String]] = [:]
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let row = try rows.next() {
            texts[try row.decode(atIndex: 0), default: []].append(try row.decode(atIndex: 1))
        }
        return texts
    }

    private static func kind(_ name: String) throws -> ArtifactKind {
        guard let kind = ArtifactKind(rawValue: name) else {
            throw QuiverError(.corrupt, "catalog holds a version of unknown kind '\(name)'")
        }
        return kind
    }

    /// The names in a `labels` column (a JSON array of strings); none when it holds anything else.
    private static func labelNames(_ json: String) -> [String] {
        guard case .array(let values)? = try? JSONParser.parse(json) else { return [] }
        let names = values.compactMap(\.stringValue)
        return names.count == values.count ? names : []
    }
}
