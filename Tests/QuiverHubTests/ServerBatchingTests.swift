import Foundation
import Hummingbird
import HummingbirdTesting
import QuiverModel
import QuiverRuntime
import QuiverStore
import Testing

@testable import QuiverHub

/// `PassBatcher`: concurrent requests share encoder passes, a large request shares them with small ones, the queue is
/// bounded, a client that leaves leaves the queue, a failed pass fails only its requests.
@Suite struct PassBatcherTests {
    static let task = TaskModel(name: "t", composition: .base, head: nil)

    /// Texts of `lengths` tokens; token ids number the texts (`first`, `first + 1`, …) so answers show their order.
    static func encodings(_ lengths: [Int], first: Int = 1) -> [Encoding] {
        lengths.enumerated().map { index, length in
            let ids = [Int32](repeating: Int32(first + index), count: length)
            return Encoding(ids: ids, typeIds: ids.map { _ in 0 }, attentionMask: ids.map { _ in 1 })
        }
    }

    /// A pass that gives each row its token id as its one value, after `hold` lets it go (when given).
    final class FakePasses: Sendable {
        let passes = Locked<[[Int]]>([])  // the texts of each group, per pass
        let hold: DispatchSemaphore?

        init(holdingFirst: Bool) { hold = holdingFirst ? DispatchSemaphore(value: 0) : nil }

        func run(_ groups: [PassGroup]) throws -> [[HiddenStates]] {
            let count = passes.withLock { passes in
                passes.append(groups.map(\.encodings.count))
                return passes.count
            }
            if count == 1 { hold?.wait() }
            return try groups.map { group in
                try group.tasks.map { _ in
                    try HiddenStates(
                        layout: SequenceLayout(lengths: group.encodings.map(\.count)), hiddenSize: 1,
                        values: group.encodings.flatMap { $0.ids.map(Float.init) },
                        attentionMask: group.encodings.flatMap(\.attentionMask))
                }
            }
        }
    }

    static func waitFor(_ condition: () -> Bool) async {
        while !condition() { try? await Task.sleep(for: .milliseconds(1)) }
    }

    @Test func textsAreSharedOneFromEachInTurn() {
        let budget = PassBudget(tokens: 100)
        // Round-robin: a, b, c, a, b, a … until the next text would not fit.
        #expect(PassBatcher.share([(Array(repeating: 10, count: 20), 1), ([10], 1), ([10, 10], 1)], budget: budget) == [7, 1, 2])
        // Every task's copy counts.
        #expect(PassBatcher.share([(Array(repeating: 10, count: 20), 2), ([10], 1)], budget: budget) == [4, 1])
        #expect(PassBatcher.share([([10, 10, 10], 2), ([10], 1)], budget: budget) == [3, 1])
        // A text over the budget runs alone when it comes first; otherwise it waits for a pass of its own.
        #expect(PassBatcher.share([([500], 1), ([10], 1)], budget: budget) == [1, 0])
        #expect(PassBatcher.share([([10], 1), ([500], 1)], budget: budget) == [1, 0])
    }

    @Test func requestsArrivingDuringAPassShareTheNext() async throws {
        let batcher = PassBatcher(queueLimit: 8)
        let fake = FakePasses(holdingFirst: true)
        let run: PassBatcher.RunPass = { try fake.run($0) }
        let first = Task { try await batcher.submit(base: 1, tasks: [Self.task], encodings: Self.encodings([3]), run: run) }
        await Self.waitFor { batcher.passSizes.count == 1 }
        let others = (0..<3).map { index in
            Task { try await batcher.submit(base: 1, tasks: [Self.task], encodings: Self.encodings([2, 4], first: 10 * (index + 1)), run: run) }
        }
        await Self.waitFor { batcher.pendingCount == 4 }
        fake.hold?.signal()
        #expect(try await first.value[0].values == [1, 1, 1])
        for (index, other) in others.enumerated() {
            let states = try await other.value[0]
            #expect(states.layout.lengths == [2, 4])
            #expect(states.values == [10, 10, 11, 11, 11, 11].map { Float(10 * index) + $0 })
        }
        #expect(batcher.passSizes == [1, 3], "the three requests that waited ran in one pass")
        #expect(batcher.pendingCount == 0)
    }

    /// A request finding the batcher idle runs its pass on its own thread; requests arriving meanwhile wait for the
    /// pass thread, which it wakes when done; a busy batcher, or texts that need two passes, are left to `submit`.
    @Test func anIdleBatcherLetsARequestRunItsOwnPass() async throws {
        let batcher = PassBatcher(budget: PassBudget(tokens: 100), queueLimit: 8)
        let fake = FakePasses(holdingFirst: true)
        let run: PassBatcher.RunPass = { try fake.run($0) }
        #expect(try batcher.runIfIdle(base: 1, tasks: [Self.task], encodings: Self.encodings([60, 60]), run: run) == nil)
        #expect(batcher.passSizes.isEmpty, "texts needing two passes run nothing")

        let leader = Task.detached { try batcher.runIfIdle(base: 1, tasks: [Self.task], encodings: Self.encodings([3]), run: run) }
        await Self.waitFor { batcher.passSizes.count == 1 }
        #expect(try batcher.runIfIdle(base: 1, tasks: [Self.task], encodings: Self.encodings([2]), run: run) == nil, "busy")
        let waiting = Task { try await batcher.submit(base: 1, tasks: [Self.task], encodings: Self.encodings([2], first: 7), run: run) }
        await Self.waitFor { batcher.pendingCount == 2 }
        fake.hold?.signal()
        #expect(try await leader.value?[0].values == [1, 1, 1])
        #expect(try await waiting.value[0].values == [7, 7])
        #expect(batcher.passSizes == [1, 1])
        #expect(batcher.pendingCount == 0)
        #expect(try batcher.runIfIdle(base: 1, tasks: [Self.task], encodings: Self.encodings([4]), run: run)?[0].values == [1, 1, 1, 1])
    }

    /// A large request takes its share of every pass; the small ones that arrive meanwhile are answered in the next
    /// pass, not after it.
    @Test func aLargeRequestDoesNotHoldBackSmallOnes() async throws {
        let batcher = PassBatcher(budget: PassBudget(tokens: 100), queueLimit: 8)
        let fake = FakePasses(holdingFirst: true)
        let run: PassBatcher.RunPass = { try fake.run($0) }
        let large = Task { try await batcher.submit(base: 1, tasks: [Self.task], encodings: Self.encodings(Array(repeating: 10, count: 50)), run: run) }
        await Self.waitFor { batcher.passSizes.count == 1 }
        let answered = Locked<[String]>([])
        let small = (0..<2).map { index in
            Task {
                let states = try await batcher.submit(base: 1, tasks: [Self.task], encodings: Self.encodings([10], first: 100 + index), run: run)
                answered.withLock { $0.append("small") }
                return states
            }
        }
        await Self.waitFor { batcher.pendingCount == 3 }
        fake.hold?.signal()
        let largeStates = try await large.value[0]
        answered.withLock { $0.append("large") }
        for task in small { _ = try await task.value }
        #expect(answered.withLock { $0 } == ["small", "small", "large"])
        #expect(largeStates.layout.lengths == Array(repeating: 10, count: 50))
        #expect(largeStates.values == (1...50).flatMap { Array(repeating: Float($0), count: 10) }, "its parts in order")
        let passes = fake.passes.withLock { $0 }
        #expect(passes[0] == [10] && passes[1] == [8, 1, 1], "the second pass: the small ones and what is left of the budget")
    }

    @Test func theQueueIsBoundedAndALeavingClientLeavesIt() async throws {
        let batcher = PassBatcher(queueLimit: 2)
        let fake = FakePasses(holdingFirst: true)
        let run: PassBatcher.RunPass = { try fake.run($0) }
        let running = Task { try await batcher.submit(base: 1, tasks: [Self.task], encodings: Self.encodings([2]), run: run) }
        await Self.waitFor { batcher.passSizes.count == 1 }
        let waiting = Task { try await batcher.submit(base: 1, tasks: [Self.task], encodings: Self.encodings([2]), run: run) }
        await Self.waitFor { batcher.pendingCount == 2 }
        do {
            _ = try await batcher.submit(base: 1, tasks: [Self.task], encodings: Self.encodings([2]), run: run)
            Issue.record("a third request should be refused")
        } catch let error as APIError {
            #expect(error.status == .serviceUnavailable && error.code == "overloaded" && error.headers[.retryAfter] != nil)
        }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(batcher.pendingCount == 1, "its place is free again")
        fake.hold?.signal()
        _ = try await running.value
        #expect(batcher.passSizes == [1], "the cancelled request never ran")
    }

    @Test func aFailedPassFailsOnlyItsRequests() async throws {
        struct Broken: Error {}
        let batcher = PassBatcher(queueLimit: 8)
        let failing: PassBatcher.RunPass = { _ in throw Broken() }
        await #expect(throws: Broken.self) {
            try await batcher.submit(base: 1, tasks: [Self.task], encodings: Self.encodings([2]), run: failing)
        }
        let fake = FakePasses(holdingFirst: false)
        let states = try await batcher.submit(base: 2, tasks: [Self.task, Self.task], encodings: Self.encodings([1, 2]), run: { try fake.run($0) })
        #expect(states.count == 2 && states.allSatisfy { $0.values == [1, 2, 2] })
    }
}

/// `quiver serve` batching real requests: mixed adapters, fusions and task lists at once give what each gives alone;
/// `POST /v1/embeddings` answers in OpenAI's shape what `Embedder` computes.
@Suite struct ServerBatchingTests {
    static let texts = ["the movie was great", "terrible service, never again", "an average day"]

    @Test func mixedConcurrentRequestsEachGetWhatTheyGetAlone() async throws {
        let workspace = try ServerWorkspace.filled()
        let registry = workspace.registry
        let base = try BaseModel(registry: registry, base: "tiny-bert")
        let requests: [[String]] = [["sentiment"], ["review"], ["topic:v2"], ["sentiment", "review"], ["entailment:1"], ["nothing"]]
        let expected = try requests.dropLast().map { tasks in
            let loaded = try tasks.map { try registry.loadTask(try Reference(parsing: $0), base: base) }
            return try MultiTaskRunner(base: base).predict(loaded, texts: Self.texts)
        }
        try await workspace.app().test(.router) { client in
            try await withThrowingTaskGroup(of: (Int, TestResponse).self) { group in
                for round in 0..<3 {
                    for (index, tasks) in requests.enumerated() {
                        group.addTask {
                            let texts = round == 1 ? Self.texts.reversed() : Self.texts
                            return (index, try await client.post(json: ["tasks": tasks, "texts": texts], to: "/v1/infer"))
                        }
                    }
                }
                for try await (index, response) in group {
                    guard index < expected.count else {
                        #expect(response.status == .notFound && response.text.contains("nothing"), "\(response.text)")
                        continue
                    }
                    #expect(response.status == .ok, "\(response.text)")
                    struct Several: Decodable { var tasks: [TaskResults] }
                    let served = try JSONDecoder().decode(Several.self, from: Data(response.bytes)).tasks
                    for (task, want) in zip(served, expected[index]) {
                        #expect(task.task == want.task)
                        let order = task.results.first?.text == Self.texts[0] ? Array(0..<3) : [2, 1, 0]
                        for (result, wanted) in zip(order.map { task.results[$0] }, want.results) {
                            #expect(result.text == wanted.text && result.label == wanted.label)
                            for (p, q) in zip(result.logits ?? [], wanted.logits ?? []) { #expect(abs(p - q) <= 1e-5) }
                        }
                    }
                }
            }
        }
    }

    @Test func embeddingsInOpenAIsShape() async throws {
        let workspace = try ServerWorkspace.filled()
        let base = try BaseModel(registry: workspace.registry, base: "tiny-bert")
        let long = String(repeating: "word ", count: 20_000)  // 100,000 characters, truncated to the positions
        let texts = Self.texts + ["", long]
        let normalized = try Embedder(model: base, pooling: .mean, normalize: true).embed(texts)
        let cls = try Embedder(model: base, pooling: .cls).embed(texts)
        try await workspace.app().test(.router) { client in
            struct Answer: Decodable {
                struct Item: Decodable { var object: String; var index: Int; var embedding: [Float] }
                struct Base64Item: Decodable { var embedding: String }
                struct Usage: Decodable { var prompt_tokens: Int; var total_tokens: Int }
                var object: String
                var data: [Item]
                var model: String
                var usage: Usage
            }
            let response = try await client.post(json: ["model": "tiny-bert", "input": texts], to: "/v1/embeddings")
            #expect(response.status == .ok, "\(response.text)")
            let answer = try JSONDecoder().decode(Answer.self, from: Data(response.bytes))
            #expect(answer.object == "list" && answer.model == "tiny-bert" && answer.data.map(\.index) == Array(0..<5))
            #expect(answer.data.allSatisfy { $0.object == "embedding" })
            for (item, want) in zip(answer.data, normalized) {
                #expect(item.embedding.count == want.count && zip(item.embedding, want).allSatisfy { abs($0 - $1) <= 1e-5 })
            }
            let tokens = texts.map { base.tokenizer.encode($0, pair: nil, maxLength: base.maxLength).count }
            #expect(answer.usage.prompt_tokens == tokens.reduce(0, +) && answer.usage.total_tokens == answer.usage.prompt_tokens)
            #expect(tokens[4] == base.maxLength, "the long text is cut at the model's positions")

            let one = try await client.post(json: ["model": "tiny-bert", "input": Self.texts[0], "pooling": "cls", "normalize": false], to: "/v1/embeddings")
            let oneAnswer = try JSONDecoder().decode(Answer.self, from: Data(one.bytes))
            #expect(oneAnswer.data.count == 1 && zip(oneAnswer.data[0].embedding, cls[0]).allSatisfy { abs($0 - $1) <= 1e-5 })

            let encoded = try await client.post(json: ["model": "tiny-bert", "input": Self.texts, "encoding_format": "base64"], to: "/v1/embeddings")
            struct Encoded: Decodable { struct Item: Decodable { var embedding: String }; var data: [Item] }
            for (item, want) in zip(try JSONDecoder().decode(Encoded.self, from: Data(encoded.bytes)).data, normalized) {
                let bytes = [UInt8](try #require(Data(base64Encoded: item.embedding)))
                let values = stride(from: 0, to: bytes.count, by: 4).map { offset in
                    Float(bitPattern: UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24)
                }
                #expect(values.count == want.count && zip(values, want).allSatisfy { abs($0 - $1) <= 1e-5 })
            }
        }
    }

    @Test func badEmbeddingRequestsAreClearJSONErrors() async throws {
        let workspace = try ServerWorkspace.filled()
        var limits = ServerLimits()
        limits.inferenceTexts = 4
        limits.inferenceBodyBytes = 2000
        try await workspace.app(limits: limits).test(.router) { client in
            let cases: [(body: Any, status: HTTPResponse.Status, code: String, mentions: String)] = [
                (["model": "nothing", "input": "x"], .notFound, "not_found", "nothing"),
                (["input": "x"], .badRequest, "invalid_request", "model"),
                (["model": "tiny-bert"], .badRequest, "invalid_request", "input"),
                (["model": "tiny-bert", "input": []], .badRequest, "invalid_request", "empty"),
                (["model": "tiny-bert", "input": [1, 2, 3]], .badRequest, "invalid_request", "token ids"),
                (["model": "tiny-bert", "input": [[1, 2], [3]]], .badRequest, "invalid_request", "token ids"),
                (["model": "tiny-bert", "input": 7], .badRequest, "invalid_request", "input"),
                (["model": "tiny-bert", "input": ["a", 2]], .badRequest, "invalid_request", "input"),
                (["model": "tiny-bert", "input": ["a", "b", "c", "d", "e"]], .badRequest, "invalid_request", "at most 4"),
                (["model": "tiny-bert", "input": "x", "encoding_format": "int8"], .badRequest, "invalid_request", "encoding_format"),
                (["model": "tiny-bert", "input": "x", "pooling": "max"], .badRequest, "invalid_request", "pooling"),
                (["model": "tiny-bert", "input": "x", "normalize": "yes"], .badRequest, "invalid_request", "normalize"),
                (["model": "tiny-bert", "input": "x", "dimensions": 64], .badRequest, "invalid_request", "dimensions"),
                (["model": "tiny-bert", "input": "x", "dimensions": 99_999_999_999_999_999_999.0], .badRequest, "invalid_request", "out of range"),
                (["model": "tiny-bert", "input": "x", "dimensions": Int.max], .badRequest, "invalid_request", "out of range"),
                (["model": "tiny-bert", "input": "x", "dimensions": 2.5], .badRequest, "invalid_request", "whole number"),
                (["model": "tiny-bert", "input": String(repeating: "x", count: 3000)], .contentTooLarge, "too_large", "2000"),
            ]
            for (body, status, code, mentions) in cases {
                let response = try await client.post(json: body, to: "/v1/embeddings")
                #expect(response.status == status, "\(body): \(response.text)")
                #expect(response.apiErrorCode == code, "\(body): \(response.text)")
                #expect(response.text.contains(mentions), "\(body): \(response.text)")
            }
            let notJSON = try await client.send(.post, "/v1/embeddings", body: Array("{model:".utf8))
            #expect(notJSON.status == .badRequest && notJSON.apiErrorCode == "invalid_request")
            // The server is still up and answers.
            let fine = try await client.post(json: ["model": "tiny-bert", "input": "x"], to: "/v1/embeddings")
            #expect(fine.status == .ok)
        }
    }
}
