import Foundation
import QuiverModel
import QuiverStore

/// Which rows of the list `GET /api/adapters` answers: exact `task`, `base`, `architecture` and
/// `kind`, and `q`, a case-insensitive substring of the task, description, labels, members,
/// architecture or base. Of those, every row, or a page as the OCI distribution spec pages
/// `_catalog`: at most `n` rows after the row `last` names (`TASK:VERSION`).
struct AdapterFilter: Sendable, Equatable {
    var task: String?
    var base: String?
    var architecture: AdapterKind?
    var kind: ArtifactKind?
    var text: String?
    /// `n`: rows per page; nil, every row.
    var pageSize: Int?
    /// `last`: the `TASK:VERSION` the page starts after.
    var after: String?

    /// The filter of a query string, `n` at most `largestPage`; unknown parameters are refused so typos do not pass
    /// silently.
    init(query: [(key: String, value: String)], largestPage: Int) throws(APIError) {
        for (key, value) in query {
            guard value.utf8.count <= 256 else { throw .invalidRequest("query parameter \(key) is longer than 256 bytes") }
            switch key {
            case "n":
                guard let n = Int(value), n >= 0 else {
                    throw .invalidRequest("n must be a whole number from 0, not '\(value.prefix(40))'")
                }
                pageSize = min(n, largestPage)
            case "last": after = value
            case "task": task = value
            case "base": base = value
            case "architecture": architecture = AdapterKind(rawValue: value)
            case "kind":
                guard let kind = ArtifactKind(rawValue: value) else { throw .invalidRequest("kind must be adapter or fusion, not '\(value)'") }
                self.kind = kind
            case "q": text = value.isEmpty ? nil : value
            default: throw .invalidRequest("unknown query parameter '\(key.prefix(40))' (use task, base, architecture, kind, q, n, last)")
            }
        }
    }

    init(task: String? = nil, base: String? = nil, architecture: AdapterKind? = nil, kind: ArtifactKind? = nil, text: String? = nil) {
        self.task = task
        self.base = base
        self.architecture = architecture
        self.kind = kind
        self.text = text
    }

    /// The rows of `entries` (in list order) answered, and whether rows follow them.
    func page(of entries: [ArtifactSummary]) throws(APIError) -> (rows: ArraySlice<ArtifactSummary>, more: Bool) {
        let matching = entries.filter(matches)
        var start = 0
        if let after {
            guard let last = matching.firstIndex(where: { "\($0.task):\($0.version)" == after }) else {
                throw .invalidRequest("last=\(after.prefix(80)) names no version this list holds (removed since the page before?)")
            }
            start = last + 1
        }
        let end = pageSize.map { min(start + $0, matching.count) } ?? matching.count
        return (matching[start..<end], end > start && end < matching.count)
    }

    func matches(_ entry: ArtifactSummary) -> Bool {
        if let task, entry.task != task { return false }
        if let base, entry.base != base { return false }
        if let architecture, entry.architecture != architecture { return false }
        if let kind, entry.kind != kind { return false }
        if let text {
            let fields = [entry.task, entry.description, entry.architecture.rawValue, entry.base] + entry.labels + entry.members
            return fields.contains { $0.range(of: text, options: [.caseInsensitive, .diacriticInsensitive]) != nil }
        }
        return true
    }
}
