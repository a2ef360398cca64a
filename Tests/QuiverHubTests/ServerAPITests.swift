import Foundation
import Hummingbird
import HummingbirdTesting
import QuiverStore
import QuiverModel
import Testing

@testable import QuiverHub

/// The JSON API (`/api/adapters`, `/api/bases`) and the HTML of the web page.
@Suite struct ServerAPITests {
    @Test func adaptersAreTheListJSONFilteredByQuery() async throws {
        let workspace = try ServerWorkspace.filled()
        let listed = try workspace.registry.list()
        try await workspace.app().test(.router) { client in
            let all = try await client.send(.get, "/api/adapters")
            #expect(all.status == .ok)
            let rows = try all.array
            #expect(rows.map { "\($0["task"]!):\($0["version"]!)" } == listed.map { "\($0.task):\($0.version)" })
            let first = try #require(rows.first { $0["task"] as? String == "sentiment" })
            let sentiment = try #require(listed.first { $0.task == "sentiment" })
            #expect(first["parameters"] as? Int == sentiment.parameters)
            #expect(first["head_parameters"] as? Int == sentiment.headParameters)
            #expect(first["stored_size"] as? Int == sentiment.storedSize)
            #expect(first["base"] as? String == "tiny-bert")
            #expect((first["created"] as? String)?.hasSuffix("Z") == true)

            func tasks(_ query: String) async throws -> [String] {
                let response = try await client.send(.get, "/api/adapters?" + query)
                #expect(response.status == .ok, "\(query): \(response.text)")
                return try response.array.map { $0["task"] as! String }
            }
            #expect(try await tasks("task=topic") == ["topic"])
            #expect(try await tasks("kind=fusion") == ["review"])
            #expect(try await tasks("architecture=lora") == ["entailment"])
            #expect(try await tasks("base=tiny-bert").count == 4)
            #expect(try await tasks("base=other").isEmpty)
            #expect(try await tasks("q=POSITIVE") == ["sentiment"])  // the description, any case
            #expect(try await tasks("q=topic") == ["review", "topic"])  // a fusion member
            #expect(try await tasks("kind=adapter&q=senti") == ["sentiment"])

            let badKind = try await client.send(.get, "/api/adapters?kind=model")
            #expect(badKind.status == .badRequest)
            #expect(badKind.apiErrorCode == "invalid_request")
            let typo = try await client.send(.get, "/api/adapters?tsak=topic")
            #expect(typo.status == .badRequest)
        }
    }

    @Test func showAndBases() async throws {
        let workspace = try ServerWorkspace.filled()
        try await workspace.app().test(.router) { client in
            let latest = try await client.send(.get, "/api/adapters/topic")
            #expect(latest.status == .ok)
            let summary = try #require(try latest.object["summary"] as? [String: Any])
            #expect(summary["version"] as? String == "v2")
            #expect((try latest.object["files"] as? [Any])?.isEmpty == false)
            let fusion = try await client.send(.get, "/api/adapters/review/1")
            #expect(((try fusion.object["summary"] as? [String: Any])?["members"] as? [String]) == ["sentiment:1", "topic:v2"])
            let unknown = try await client.send(.get, "/api/adapters/nothing")
            #expect(unknown.status == .notFound)
            #expect(unknown.apiErrorCode == "not_found")
            let badVersion = try await client.send(.get, "/api/adapters/topic/9")
            #expect(badVersion.status == .notFound)
            #expect(badVersion.text.contains("versions: v2"))
            let badName = try await client.send(.get, "/api/adapters/Topic")
            #expect(badName.status == .badRequest)

            let bases = try await client.send(.get, "/api/bases")
            let base = try #require(try bases.array.first)
            #expect(base["name"] as? String == "tiny-bert")
            #expect(base["layers"] as? Int == SampleFolders.config.layerCount)
            #expect(base["hidden_size"] as? Int == SampleFolders.config.hiddenSize)
        }
    }

    @Test func pageListsEveryVersionWithEscapedText() async throws {
        let workspace = try ServerWorkspace.filled()
        try await workspace.app().test(.router) { client in
            let page = try await client.send(.get, "/")
            #expect(page.status == .ok)
            #expect(page.header("Content-Type") == "text/html; charset=utf-8")
            #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
            let html = page.text
            for artifact in try workspace.registry.list() {
                #expect(html.contains("data-task=\"\(artifact.task)\" data-version=\"\(artifact.version)\""))
            }
            #expect(html.contains("quiver pull TASK --from http://localhost/quiver"))  // the request's authority
            #expect(html.contains("Movie reviews &lt;b&gt;positive&lt;/b&gt; &amp; negative"))
            #expect(!html.contains("<b>positive</b>"))
            #expect(!html.contains(" src=") && !html.contains("<link"))  // no external asset
            #expect(html.contains("<tr class=\"base\" data-name=\"tiny-bert\">"))
        }
    }

    @Test func pageOfAnEmptyRegistrySaysHowToPublish() async throws {
        let workspace = try ServerWorkspace.empty()
        try await workspace.app().test(.router) { client in
            let html = try await client.send(.get, "/").text
            #expect(html.contains("No adapter yet"))
            #expect(html.contains("quiver push TASK --to http://"))
        }
    }

    @Test func escapingCoversEveryHTMLMetacharacter() {
        #expect(HTMLText.escape("<a href=\"x\" title='y'>&</a>") == "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;")
        #expect(DisplayFormat.count(1234567) == "1,234,567")
        #expect(DisplayFormat.size(1536) == "1.50 KiB")
    }
}
