import AsyncHTTPClient
import Foundation
import NIOCore
import QuiverModel
import QuiverStore

extension DistributionClient {
    /// `GET /v2/<repository>/tags/list`, every page (`n`, `last`, `Link`). Empty when the
    /// repository does not exist.
    public func tags(of repository: String, pageSize: Int = 1000) async throws -> [String] {
        struct Page: Decodable {
            var tags: [String]?
        }
        return try await pages(first: "/v2/\(repository)/tags/list?n=\(pageSize)", scope: .pull(repository), what: "list the tags of \(repository)", missingIsEmpty: true) { (page: Page) in
            page.tags ?? []
        }
    }

    /// `GET /v2/_catalog`, every page: the remote's repository names (all namespaces).
    public func catalog(pageSize: Int = 1000) async throws -> [String] {
        struct Page: Decodable {
            var repositories: [String]?
        }
        return try await pages(first: "/v2/_catalog?n=\(pageSize)", scope: .catalog, what: "list its repositories", missingIsEmpty: false) { (page: Page) in
            page.repositories ?? []
        }
    }

    /// Follows `Link: <…>; rel="next"` from page to page; without a `Link`, a full page asks again
    /// from the last name (`last=`), which registries that omit `Link` understand.
    private func pages<Page: Decodable>(
        first path: String, scope: AccessScope, what: String, missingIsEmpty: Bool, names: (Page) -> [String]
    ) async throws -> [String] {
        var all: [String] = []
        var seen = Set<String>()
        var next: String? = url(path)
        var pageCount = 0
        let pageSize = URLComponents(string: url(path))?.queryItems?.first { $0.name == "n" }?.value.flatMap(Int.init)
        while let current = next {
            pageCount += 1
            guard pageCount <= 10_000 else { throw QuiverError(.io, "\(location.baseURL) keeps paginating while asked to \(what)") }
            let response = try await send(Request(method: .GET, url: current, scope: scope))
            if response.status == .notFound, missingIsEmpty {
                await Self.drain(response)
                return all
            }
            guard response.status == .ok else { throw await failure(response, what) }
            let body = try await response.body.collect(upTo: 16 << 20)
            guard let page = try? JSONDecoder().decode(Page.self, from: Data(body.readableBytesView)) else {
                throw QuiverError(.io, "\(location.baseURL) answered an unreadable page when asked to \(what)")
            }
            let pageNames = names(page).filter { seen.insert($0).inserted }
            guard !pageNames.isEmpty else { break }  // a registry that ignores `last` repeats itself
            all += pageNames
            if let link = response.headers.first(name: "Link"), let target = Self.nextLink(link) {
                next = Self.resolve(target, against: current)
            } else if let pageSize, pageNames.count == pageSize, let last = pageNames.last {
                next = url(path) + "&last=" + (last.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? last)
            } else {
                next = nil
            }
        }
        return all
    }

    /// The target of `rel="next"` in a `Link` header.
    static func nextLink(_ header: String) -> String? {
        for part in header.split(separator: ",") {
            let fields = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let target = fields.first, target.hasPrefix("<"), target.hasSuffix(">") else { continue }
            if fields.dropFirst().contains(where: { $0.replacingOccurrences(of: " ", with: "") == "rel=\"next\"" || $0 == "rel=next" }) {
                return String(target.dropFirst().dropLast())
            }
        }
        return nil
    }
}
