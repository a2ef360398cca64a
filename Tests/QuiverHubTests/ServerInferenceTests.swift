import Foundation
import Hummingbird
import HummingbirdTesting
import QuiverModel
import QuiverRuntime
import QuiverStore
import Testing

@testable import QuiverHub

/// `POST /v1/infer` answers what `MultiTaskRunner` computes directly, for one adapter, a fusion and
/// several tasks, and refuses bad requests with clear JSON errors.
@Suite struct ServerInferenceTests {
    static let texts = ["the movie was great", "terrible service, never again", "an average day"]

    /// What the runner computes for `tasks` on the registry, without the server (on `base` when
    /// given, to load it once per test).
    func direct(_ tasks: [String], _ registry: Registry, pairs: [String?]? = nil, base: BaseModel? = nil) throws -> [TaskResults] {
        let references = try tasks.map { try Reference(parsing: $0) }
        if let base {
            let loaded = try references.map { try registry.loadTask($0, base: base) }
            return try MultiTaskRunner(base: base).predict(loaded, texts: Self.texts, pairs: pairs)
        }
        let (base, loaded) = try registry.loadTasks(references)
        return try MultiTaskRunner(base: base).predict(loaded, texts: Self.texts, pairs: pairs)
    }

    func expectSame(_ served: [TaskResults], _ expected: [TaskResults]) {
        #expect(served.map(\.task) == expected.map(\.task))
        for (a, b) in zip(served, expected) {
            #expect(a.results.map(\.text) == b.results.map(\.text))
            #expect(a.results.map(\.label) == b.results.map(\.label))
            for (x, y) in zip(a.results, b.results) {
                let left = x.logits ?? [], right = y.logits ?? []
                #expect(left.count == right.count && !left.isEmpty)
                for (p, q) in zip(left, right) { #expect(abs(p - q) <= 1e-6, "\(a.task): \(p) vs \(q)") }
            }
        }
    }

    @Test func oneAdapterAFusionAndSeveralTasksMatchTheRunner() async throws {
        let workspace = try ServerWorkspace.filled()
        let registry = workspace.registry
        let base = try BaseModel(registry: registry, base: "tiny-bert")
        try await workspace.app().test(.router) { client in
            for task in ["sentiment", "review", "topic:v2"] {
                let response = try await client.post(json: ["task": task, "texts": Self.texts], to: "/v1/infer")
                #expect(response.status == .ok, "\(response.text)")
                let served = try JSONDecoder().decode(TaskResults.self, from: Data(response.bytes))
                expectSame([served], try direct([task], registry, base: base))
            }
            let pairs = ["it is good", "it is bad", "it is fine"]
            let paired = try await client.post(json: ["task": "entailment", "texts": Self.texts, "text_pairs": pairs], to: "/v1/infer")
            let servedPairs = try JSONDecoder().decode(TaskResults.self, from: Data(paired.bytes))
            #expect(servedPairs.results.map(\.textPair) == pairs)
            expectSame([servedPairs], try direct(["entailment"], registry, pairs: pairs, base: base))

            let several = ["sentiment", "review", "entailment:1"]
            let together = try await client.post(json: ["tasks": several, "texts": Self.texts], to: "/v1/infer")
            #expect(together.status == .ok, "\(together.text)")
            struct Several: Decodable { var tasks: [TaskResults] }
            let served = try JSONDecoder().decode(Several.self, from: Data(together.bytes)).tasks
            expectSame(served, try direct(several, registry, base: base))
        }
    }

    @Test func concurrentRequestsAllSucceed() async throws {
        let workspace = try ServerWorkspace.filled()
        let expected = try direct(["review"], workspace.registry)
        try await workspace.app().test(.router) { client in
            try await withThrowingTaskGroup(of: TaskResults.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        let response = try await client.post(json: ["task": "review", "texts": Self.texts], to: "/v1/infer")
                        #expect(response.status == .ok, "\(response.text)")
                        return try JSONDecoder().decode(TaskResults.self, from: Data(response.bytes))
                    }
                }
                for try await served in group { expectSame([served], expected) }
            }
        }
    }

    @Test func badRequestsAreClearJSONErrors() async throws {
        let workspace = try ServerWorkspace.filled()
        var limits = ServerLimits()
        limits.inferenceTexts = 4
        limits.inferenceBodyBytes = 2000
        limits.inferenceTasks = 2
        try await workspace.app(limits: limits).test(.router) { client in
            let cases: [(body: Any, status: HTTPResponse.Status, code: String, mentions: String)] = [
                (["task": "nothing", "texts": ["x"]], .notFound, "not_found", "nothing"),
                (["task": "sentiment:9", "texts": ["x"]], .notFound, "not_found", "versions: 1"),
                (["task": "Bad Name", "texts": ["x"]], .badRequest, "invalid_request", "Bad Name"),
                (["texts": ["x"]], .badRequest, "invalid_request", "give"),
                (["task": "sentiment", "tasks": ["topic"], "texts": ["x"]], .badRequest, "invalid_request", "not both"),
                (["task": "sentiment"], .badRequest, "invalid_request", "texts"),
                (["task": "sentiment", "texts": []], .badRequest, "invalid_request", "empty"),
                (["task": "sentiment", "texts": "x"], .badRequest, "invalid_request", "texts"),
                (["task": "sentiment", "texts": ["a", "b"], "text_pairs": ["a"]], .badRequest, "invalid_request", "text_pairs"),
                (["task": "sentiment", "texts": ["a", "b", "c", "d", "e"]], .badRequest, "invalid_request", "at most 4"),
                (["task": "sentiment", "texts": ["a"], "max_length": 1], .badRequest, "invalid_request", "max_length"),
                (["tasks": [], "texts": ["a"]], .badRequest, "invalid_request", "empty"),
                (["tasks": ["sentiment", "topic", "sentiment"], "texts": ["a"]], .badRequest, "invalid_request", "3 tasks: at most 2"),
                (["task": "sentiment", "texts": [String(repeating: "x", count: 3000)]], .contentTooLarge, "too_large", "2000"),
            ]
            for (body, status, code, mentions) in cases {
                let response = try await client.post(json: body, to: "/v1/infer")
                #expect(response.status == status, "\(body): \(response.text)")
                #expect(response.apiErrorCode == code, "\(body): \(response.text)")
                #expect(response.text.contains(mentions), "\(body): \(response.text)")
            }
            let notJSON = try await client.send(.post, "/v1/infer", body: Array("{task:".utf8))
            #expect(notJSON.status == .badRequest)
            #expect(notJSON.apiErrorCode == "invalid_request")
        }
    }

    /// A version stored but not run by this build (a gated bottleneck) is a 422 that says why, in one line.
    @Test func storedOnlyVersionSaysWhyItDoesNotRun() async throws {
        let workspace = try ServerWorkspace.filled()
        let folder = workspace.root + "/gated"
        try FileManager.default.copyItem(atPath: workspace.samples + "/sentiment", toPath: folder)
        let configPath = folder + "/adapter_config.json"
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: configPath))) as! [String: Any]
        var inner = json["config"] as! [String: Any]
        inner["use_gating"] = true
        json["config"] = inner
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: configPath))
        try workspace.registry.push(Reference(parsing: "gated"), folder: folder)
        try await workspace.app().test(.router) { client in
            let response = try await client.post(json: ["task": "gated", "texts": ["x"]], to: "/v1/infer")
            #expect(response.status == .unprocessableContent, "\(response.text)")
            #expect(response.apiErrorCode == "unsupported")
            #expect(response.text.contains("gated:1: ") && response.text.contains("use_gating"), "\(response.text)")
        }
    }

    /// Another base model with one adapter (`other-task`), named `name`.
    func addOtherBase(_ name: String, task: String, to workspace: ServerWorkspace, seed: UInt64) throws {
        var shape = SampleFolders.config
        shape.layerCount = 2
        let folder = workspace.root + "/" + name
        try SampleFolders.writeBaseModel(to: folder + "/base", config: shape, seed: seed)
        try SampleFolders.writeAdapter(to: folder + "/task", name: task, config: shape, seed: seed + 1)
        try workspace.registry.addBase(folder: folder + "/base", name: name)
        try workspace.registry.push(Reference(parsing: task), folder: folder + "/task", baseName: name)
    }

    @Test func engineKeepsTwoBasesAndAlternatingBetweenThemReloadsNothing() async throws {
        let workspace = try ServerWorkspace.filled()
        let registry = workspace.registry
        try addOtherBase("other-bert", task: "other-task", to: workspace, seed: 5)

        let engine = InferenceEngine(registry: registry, limits: ServerLimits())
        let texts = Self.texts
        let first = try await engine.predict([Reference(parsing: "review")], texts: texts, pairs: nil, maxLength: nil)
        expectSame(first, try direct(["review"], registry))
        #expect(engine.loadedModels.bases == ["tiny-bert"])
        #expect(engine.loadedModels.tasks.count == 1)
        let switched = try await engine.predict([Reference(parsing: "other-task")], texts: texts, pairs: nil, maxLength: nil)
        expectSame(switched, try direct(["other-task"], registry))
        #expect(engine.loadedModels.bases == ["tiny-bert", "other-bert"])
        #expect(engine.loadedModels.tasks.count == 2)
        await #expect(throws: QuiverError.self) {
            try await engine.predict([Reference(parsing: "sentiment"), Reference(parsing: "other-task")], texts: texts, pairs: nil, maxLength: nil)
        }
        let back = try await engine.predict([Reference(parsing: "review")], texts: texts, pairs: nil, maxLength: nil)
        expectSame(back, first)
        #expect(engine.loadedModels.bases == ["tiny-bert", "other-bert"])

        try await workspace.app().test(.router) { client in
            let mixed = try await client.post(json: ["tasks": ["sentiment", "other-task"], "texts": ["x"]], to: "/v1/infer")
            #expect(mixed.status == .unprocessableContent)
            #expect(mixed.apiErrorCode == "incompatible")
        }
    }

    /// A client asking for more bases than the cache holds, in turn, is refused (503, `Retry-After`)
    /// instead of forcing a reload per request; once a base has been idle for the residency period,
    /// another takes its place.
    @Test func aThirdBaseWaitsForTheResidencyPeriodInsteadOfForcingReloads() async throws {
        let workspace = try ServerWorkspace.filled()
        let registry = workspace.registry
        try addOtherBase("other-bert", task: "other-task", to: workspace, seed: 5)
        try addOtherBase("third-bert", task: "third-task", to: workspace, seed: 9)
        var limits = ServerLimits()
        limits.baseResidency = 3600
        let engine = InferenceEngine(registry: registry, limits: limits)
        let texts = ["x"]
        for _ in 0..<3 {
            _ = try await engine.predict([Reference(parsing: "sentiment")], texts: texts, pairs: nil, maxLength: nil)
            _ = try await engine.predict([Reference(parsing: "other-task")], texts: texts, pairs: nil, maxLength: nil)
            do {
                _ = try await engine.predict([Reference(parsing: "third-task")], texts: texts, pairs: nil, maxLength: nil)
                Issue.record("a third base should not evict one used within its residency period")
            } catch let error as APIError {
                #expect(error.status == .serviceUnavailable && error.code == "overloaded")
                #expect(Int(error.headers[.retryAfter] ?? "") ?? 0 > 3000)
            }
        }
        #expect(engine.loadedModels.bases == ["tiny-bert", "other-bert"])

        limits.baseResidency = 0
        let eager = InferenceEngine(registry: registry, limits: limits)
        _ = try await eager.predict([Reference(parsing: "sentiment")], texts: texts, pairs: nil, maxLength: nil)
        _ = try await eager.predict([Reference(parsing: "other-task")], texts: texts, pairs: nil, maxLength: nil)
        let third = try await eager.predict([Reference(parsing: "third-task")], texts: Self.texts, pairs: nil, maxLength: nil)
        expectSame(third, try direct(["third-task"], registry))
        #expect(eager.loadedModels.bases == ["other-bert", "third-bert"])
    }

    /// The connection watch of `quiver serve` (`httpServer`) cancels the work of a request whose
    /// client hangs up while it waits.
    @Test func workForAClientThatLeftIsCancelled() async throws {
        let cancelled = Locked(false)
        let router = Router(context: HubRequestContext.self)
        router.get("wait") { _, context in
            do {
                return try await context.cancellingWhenClientLeaves {
                    try await Task.sleep(for: .seconds(30))
                    return "done"
                }
            } catch is CancellationError {
                cancelled.withLock { $0 = true }
                return "cancelled"
            }
        }
        let app = Application(router: router, server: httpServer(limits: ServerLimits()), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await RawHTTPConnection.with(port: port) { connection in
                try connection.sendHead("GET", "/wait")
                Thread.sleep(forTimeInterval: 0.3)
            }  // hangs up
            let clock = ContinuousClock()
            let start = clock.now
            while !cancelled.withLock({ $0 }), clock.now - start < .seconds(30) { try await Task.sleep(for: .milliseconds(20)) }
            #expect(cancelled.withLock { $0 }, "the waiting work was not cancelled when its client left")
        }
    }

    @Test func cacheEvictsTheLeastRecentlyUsed() {
        var cache = LRUCache<String, Int>(capacity: 2)
        cache.insert(1, for: "a")
        cache.insert(2, for: "b")
        #expect(cache.value(for: "a") == 1)  // b is now the oldest
        cache.insert(3, for: "c")
        #expect(cache.value(for: "b") == nil)
        #expect(cache.value(for: "a") == 1)
        #expect(cache.value(for: "c") == 3)
        #expect(cache.count == 2)
    }
}
