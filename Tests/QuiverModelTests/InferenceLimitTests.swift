import Testing

@testable import QuiverModel

/// How much one encoder pass may hold, whatever the batch size, the texts' lengths and the number of tasks.
@Suite struct InferenceLimitTests {
    @Test(arguments: [
        (32, 1, 32), (32, 16, 16), (256, 1, 256), (100_000, 1, 256), (100_000, 3, 85), (1, 1000, 1), (0, 1, 1),
    ])
    func passesHoldAtMostTheMaximumNumberOfSequences(_ batchSize: Int, _ tasks: Int, _ expected: Int) {
        let passes = PassBudget(texts: batchSize).passes(lengths: Array(repeating: 1, count: 1000), copies: tasks)
        #expect(passes.map(\.count).max() == expected)
        #expect(passes.allSatisfy { $0.count * tasks <= max(MultiTaskRunner.maximumSequencesPerPass, tasks) })
        #expect(passes.flatMap { Array($0) } == Array(0..<1000), "every text once, in order")
    }

    @Test func passesAreCutByTokensEveryCopyCounted() {
        let budget = PassBudget(tokens: 1000)
        #expect(budget.passes(lengths: Array(repeating: 100, count: 25)).map(\.count) == [10, 10, 5])
        #expect(budget.passes(lengths: Array(repeating: 100, count: 10), copies: 2).map(\.count) == [5, 5])
        // Short texts fill a pass with many; a text over the budget runs alone.
        #expect(budget.passes(lengths: [10, 10, 10, 2000, 10]).map(\.count) == [3, 1, 1])
        #expect(budget.passes(lengths: []).isEmpty)
    }
}
