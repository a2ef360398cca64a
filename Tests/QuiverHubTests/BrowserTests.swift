import Foundation
import Hummingbird
import HummingbirdTesting
import QuiverStore
import QuiverModel
import QuiverTestServers
import Testing

@testable import QuiverHub

/// Where the headless browser is.
enum Chromium {
    static let path: String? = {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for folder in folders where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") { return "\(folder)/\(name)" }
        }
        return nil
    }()
}

/// The web page in a real headless browser (Debian's `chromium`) against a live server: the rows
/// it must show once its script has run, and a search.
///
/// Without chromium the test is skipped, except under `CI=true`, where it must run (and fails).
@Suite(.enabled(if: Chromium.path != nil || ProcessInfo.processInfo.environment["CI"] == "true", "needs chromium (apt-get install chromium)"))
struct BrowserTests {

    /// One row of the artifacts table as the browser has it.
    struct Row {
        var task, version, html: String
        var hidden: Bool
    }

    @Test func pageShowsEveryVersionAndFiltersRows() async throws {
        let chromium = try #require(Chromium.path, "chromium is not installed: apt-get install chromium (make deps installs it)")
        let workspace = try ServerWorkspace.filled()
        let listed = try workspace.registry.list()
        try await workspace.app().test(.live) { client in
            let port = try #require(client.port)
            let dom = try await Self.dumpDOM(chromium, url: "http://127.0.0.1:\(port)/", profile: workspace.root + "/chromium")
            #expect(dom.contains("data-ready=\"true\""), "the page's script did not run: \(dom.prefix(500))")
            let rows = Self.rows(dom)
            #expect(rows.map { "\($0.task):\($0.version)" } == listed.map { "\($0.task):\($0.version)" })
            for (row, artifact) in zip(rows, listed) {
                #expect(!row.hidden)
                #expect(row.html.contains("<td class=\"task\"") && row.html.contains(">\(artifact.task)</td>"))
                #expect(row.html.contains("<td class=\"version\">\(artifact.version)</td>"))
                #expect(row.html.contains(">\(DisplayFormat.count(artifact.parameters))</td>"), "\(artifact.task): parameters")
                #expect(row.html.contains(">\(DisplayFormat.count(artifact.headParameters))</td>"), "\(artifact.task): head parameters")
                #expect(row.html.contains("<td class=\"kind\">\(artifact.kind)</td>"))
                #expect(row.html.contains("<td class=\"base\">tiny-bert</td>"))
                for member in artifact.members { #expect(row.html.contains("<span class=\"member\">\(member)</span>")) }
            }
            let review = try #require(rows.first { $0.task == "review" })
            #expect(review.html.contains("<span class=\"member\">sentiment:1</span>") && review.html.contains("<span class=\"member\">topic:v2</span>"))
            #expect(dom.contains("<tr class=\"base\" data-name=\"tiny-bert\">"))

            // ?q= searches every version on the server and fills the search box, whose filter then hides nothing.
            let filtered = Self.rows(try await Self.dumpDOM(chromium, url: "http://127.0.0.1:\(port)/?q=topic", profile: workspace.root + "/chromium"))
            #expect(filtered.map(\.task) == ["review", "topic"])
            #expect(filtered.allSatisfy { !$0.hidden })
        }
    }

    /// The rows of the artifacts table in a serialized DOM.
    static func rows(_ dom: String) -> [Row] {
        let pattern = /<tr class="artifact[^"]*" data-task="([^"]+)" data-version="([^"]+)"([^>]*)>(.*?)<\/tr>/.dotMatchesNewlines()
        return dom.matches(of: pattern).map { match in
            Row(task: String(match.1), version: String(match.2), html: String(match.4), hidden: match.3.contains(" hidden"))
        }
    }

    /// `chromium --headless --dump-dom URL`: the DOM after the page's scripts ran.
    static func dumpDOM(_ chromium: String, url: String, profile: String) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=\(profile)", "--dump-dom", url,
        ]
        let output = ChildPipe(.fromChild)
        process.standardOutput = output.childEnd
        process.standardError = FileHandle.nullDevice
        try process.run()
        output.childStarted()
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 90, execute: watchdog)
        let data = await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: output.ownEnd.readDataToEndOfFile()) }
        }
        process.waitUntilExit()
        watchdog.cancel()
        #expect(process.terminationStatus == 0, "chromium exited with status \(process.terminationStatus)")
        return String(decoding: data, as: UTF8.self)
    }
}
