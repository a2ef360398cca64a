import Foundation
import Hummingbird
import HummingbirdTesting
import QuiverModel
import Testing

@testable import QuiverHub
@testable import QuiverStore

/// The web page a hundred versions at a time, its search over every version, and `GET /api/adapters` in pages of `n`.
@Suite struct ServerPagingTests {
    /// The filled registry (4 versions) and 250 catalog copies of its sentiment version: `bulk-00` … `bulk-49`, five
    /// versions each — 254 versions, three pages.
    static func large() throws -> ServerWorkspace {
        let workspace = try ServerWorkspace.filled()
        try workspace.registry.catalog.database.write { db in
            try db.execute(sql: """
                WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 249)
                INSERT INTO artifact (task, version, kind, manifestDigest, configDigest, architecture, format, baseModelId,
                                      parameters, headParameters, size, storedSize, labels, description, metadata, createdAt)
                SELECT printf('bulk-%02d', i / 5), i % 5 + 1, kind, manifestDigest, configDigest, architecture, format,
                       baseModelId, parameters, headParameters, size, storedSize, labels, '', metadata,
                       strftime('%Y-%m-%d %H:%M:%f', createdAt, '+' || i || ' seconds')
                FROM n JOIN artifact ON artifact.task = 'sentiment'
                """)
        }
        return workspace
    }

    /// `TASK:VERSION` of the artifact rows of a page.
    static func rows(_ html: String) -> [String] {
        html.matches(of: /<tr class="artifact[^"]*" data-task="([^"]+)" data-version="([^"]+)"/).map { "\($0.1):\($0.2)" }
    }

    @Test func pageShowsAHundredVersionsWithLinksToTheOthers() async throws {
        let workspace = try Self.large()
        let listed = try workspace.registry.list().map { "\($0.task):\($0.version)" }
        #expect(listed.count == 254)
        try await workspace.app().test(.router) { client in
            let first = try await client.send(.get, "/").text
            #expect(Self.rows(first) == Array(listed[0..<100]))
            #expect(first.contains("54 tasks · 253 adapter versions · 1 fusion version · 1 base model"))
            #expect(first.contains("<span>Versions 1–100 of 254 · page 1 of 3</span> <a rel=\"next\" href=\"/?page=2\">"))
            #expect(!first.contains("rel=\"prev\""))

            let middle = try await client.send(.get, "/?page=2").text
            #expect(Self.rows(middle) == Array(listed[100..<200]))
            #expect(middle.contains("<a rel=\"prev\" href=\"/?page=1\">← Previous</a> <span>Versions 101–200 of 254 · page 2 of 3</span>"))
            #expect(middle.contains("<a rel=\"next\" href=\"/?page=3\">"))

            // The last page, also for any number past it.
            for page in ["3", "003", "4", "99999999999999999999", String(repeating: "9", count: 200)] {
                let last = try await client.send(.get, "/?page=" + page)
                #expect(last.status == .ok, "page=\(page)")
                #expect(Self.rows(last.text) == Array(listed[200...]), "page=\(page)")
                #expect(last.text.contains("Versions 201–254 of 254 · page 3 of 3") && !last.text.contains("rel=\"next\""))
            }
        }
    }

    @Test func pageNumbersThatAreNotWholeNumbersFromOneAreRefused() async throws {
        let workspace = try ServerWorkspace.filled()
        try await workspace.app().test(.router) { client in
            for page in ["-1", "0", "00", "abc", "1.5", "", "+1", "%201", "1e3", "0x10", "%EF%BC%91"] {
                let response = try await client.send(.get, "/?page=" + page)
                #expect(response.status == .badRequest, "page=\(page)")
                #expect(response.apiErrorCode == "invalid_request", "page=\(page)")
                #expect(response.text.contains("page must be a whole number from 1"), "page=\(page): \(response.text)")
            }
        }
    }

    @Test func searchCoversEveryVersionAndItsPagesKeepIt() async throws {
        let workspace = try Self.large()
        let listed = try workspace.registry.list().map { "\($0.task):\($0.version)" }
        try await workspace.app().test(.router) { client in
            let tens = try await client.send(.get, "/?q=BULK-4").text
            #expect(Self.rows(tens) == listed.filter { $0.hasPrefix("bulk-4") })
            #expect(tens.contains("value=\"BULK-4\"") && tens.contains("Versions 1–50 of 50 matching “BULK-4” · page 1 of 1"))

            let bulk = try await client.send(.get, "/?q=bulk%20adapter").text
            #expect(Self.rows(bulk) == Array(listed.filter { $0.hasPrefix("bulk") }[0..<100]))
            #expect(bulk.contains("<a rel=\"next\" href=\"/?page=2&amp;q=bulk%20adapter\">"))
            let second = try await client.send(.get, "/?page=2&q=bulk%20adapter").text
            #expect(Self.rows(second) == Array(listed.filter { $0.hasPrefix("bulk") }[100..<200]))

            let none = try await client.send(.get, "/?q=%3Cnothing%3E").text
            #expect(Self.rows(none).isEmpty && none.contains("No version matches “&lt;nothing&gt;”."))
            let long = try await client.send(.get, "/?q=" + String(repeating: "x", count: 257))
            #expect(long.status == .badRequest)
        }
    }

    @Test func adaptersComeInPagesOfNFollowingTheLinkHeader() async throws {
        let workspace = try Self.large()
        let listed = try workspace.registry.list().map { "\($0.task):\($0.version)" }
        try await workspace.app(limits: { var limits = ServerLimits(); limits.pageSize = 120; return limits }()).test(.router) { client in
            func names(_ response: TestResponse) throws -> [String] { try response.array.map { "\($0["task"]!):\($0["version"]!)" } }

            #expect(try names(try await client.send(.get, "/api/adapters")) == listed)  // no n: every version, as before

            var pages: [[String]] = []
            var next: String? = "/api/adapters?n=100"
            while let uri = next {
                let response = try await client.send(.get, uri)
                #expect(response.status == .ok, "\(uri): \(response.text)")
                pages.append(try names(response))
                next = response.header("Link").flatMap { $0.firstMatch(of: /^<([^>]+)>; rel="next"$/).map { String($0.1) } }
            }
            #expect(pages.map(\.count) == [100, 100, 54])
            #expect(Array(pages.joined()) == listed)

            let capped = try await client.send(.get, "/api/adapters?n=1000")
            #expect(try names(capped).count == 120 && capped.header("Link") == "</api/adapters?n=1000&last=bulk-23%3A5>; rel=\"next\"")
            let filtered = try await client.send(.get, "/api/adapters?kind=fusion&n=1")
            #expect(try names(filtered) == ["review:1"] && filtered.header("Link") == nil)
            let kept = try await client.send(.get, "/api/adapters?q=bulk-1&n=3&last=bulk-10:4")
            #expect(try names(kept) == ["bulk-10:5", "bulk-11:1", "bulk-11:2"])
            #expect(kept.header("Link") == "</api/adapters?q=bulk-1&n=3&last=bulk-11%3A2>; rel=\"next\"")
            #expect(try names(try await client.send(.get, "/api/adapters?n=0")).isEmpty)

            for bad in ["n=-1", "n=abc", "n=99999999999999999999", "last=nothing:1&n=5", "page=2"] {
                let response = try await client.send(.get, "/api/adapters?" + bad)
                #expect(response.status == .badRequest && response.apiErrorCode == "invalid_request", "\(bad): \(response.text)")
            }
        }
    }
}
