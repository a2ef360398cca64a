import Foundation
import QuiverModel
import QuiverStore

/// Which rows of the list `GET /api/adapters` answers: exact `task`, `base`, `architecture` and
/// `kind`, and `q`, a case-insensitive substring of the task, description, labels, members,
/// architecture or base.
struct AdapterFilter: Sendable, Equatable {
    var task: String?
    var base: String?
    var architecture: AdapterKind?
    var kind: ArtifactKind?
    var text: String?

    /// The filter of a query string; unknown parameters are refused so typos do not pass silently.
    init(query: [(key: String, value: String)]) throws(APIError) {
        for (key, value) in query {
            guard value.utf8.count <= 256 else { throw .invalidRequest("query parameter \(key) is longer than 256 bytes") }
            switch key {
            case "task": task = value
            case "base": base = value
            case "architecture": architecture = AdapterKind(rawValue: value)
            case "kind":
                guard let kind = ArtifactKind(rawValue: value) else { throw .invalidRequest("kind must be adapter or fusion, not '\(value)'") }
                self.kind = kind
            case "q": text = value.isEmpty ? nil : value
            default: throw .invalidRequest("unknown query parameter '\(key.prefix(40))' (use task, base, architecture, kind, q)")
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
