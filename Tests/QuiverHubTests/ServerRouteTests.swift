import Foundation
import QuiverStore
import QuiverModel
import Testing

@testable import QuiverHub

/// Parsing request paths: the repository grammar and the distribution endpoints.
@Suite struct ServerRouteTests {
    @Test func componentGrammarIsTheOCIGrammar() {
        let samples = [
            "a", "sentiment", "topic-v2", "a.b", "a_b", "a__b", "a---b", "a1", "9", "base", "x.y_z--w",
            "", "A", "-a", "a-", ".a", "a.", "a..b", "a___b", "a._b", "a-.b", "a b", "a/b", "é", "a%2f", "_a", "a_",
        ]
        for sample in samples {
            let valid = sample.wholeMatch(of: /[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*/) != nil
            #expect(Reference.isPathComponent(sample[...]) == valid, "\(sample)")
            #expect(((try? Reference.validateTask(sample)) != nil) == valid, "\(sample)")
        }
    }

    @Test func routesAreRecognisedFromTheEndOfThePath() throws {
        func route(_ path: String) throws(RegistryError) -> DistributionRoute {
            try DistributionRoute(components: path.split(separator: "/"), namespace: "quiver")
        }
        let sentiment = RepositoryName(namespace: "quiver", content: .task("sentiment"))
        let blobsTask = RepositoryName(namespace: "quiver", content: .task("blobs"))
        let base = RepositoryName(namespace: "quiver", content: .base("tiny-bert"))
        let digest = try Digest(parsing: "sha256:" + String(repeating: "a", count: 64))
        let id = UUID()
        #expect(try route("_catalog") == .catalog)
        #expect(try route("quiver/sentiment/tags/list") == .tags(sentiment))
        #expect(try route("quiver/base/tiny-bert/manifests/latest") == .manifest(base, .tag("latest")))
        #expect(try route("quiver/sentiment/manifests/\(digest)") == .manifest(sentiment, .digest(digest)))
        #expect(try route("quiver/sentiment/blobs/\(digest)") == .blob(sentiment, digest))
        #expect(try route("quiver/sentiment/blobs/uploads") == .uploads(sentiment))
        #expect(try route("quiver/sentiment/blobs/uploads/\(id.uuidString)") == .upload(sentiment, id))
        // A task may be named like an endpoint word.
        #expect(try route("quiver/blobs/blobs/\(digest)") == .blob(blobsTask, digest))
        #expect(try route("quiver/blobs/blobs/uploads") == .uploads(blobsTask))
        #expect(throws: RegistryError.self) { try route("quiver/base/manifests/latest/x") }
        #expect(throws: RegistryError.self) { try route("quiver") }
    }

    @Test func namespacesMayHaveSeveralComponents() throws {
        let route = try DistributionRoute(components: "team/ml/sentiment/tags/list".split(separator: "/"), namespace: "team/ml")
        #expect(route == .tags(RepositoryName(namespace: "team/ml", content: .task("sentiment"))))
        #expect(throws: RegistryError.self) { try DistributionRoute(components: "team/sentiment/tags/list".split(separator: "/"), namespace: "team/ml") }
    }
}
