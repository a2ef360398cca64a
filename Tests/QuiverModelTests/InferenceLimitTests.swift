import Testing

@testable import QuiverModel

/// How much one encoder pass may hold, whatever the batch size and the number of tasks.
@Suite struct InferenceLimitTests {
    @Test(arguments: [
        (32, 1, 32), (32, 16, 16), (256, 1, 256), (100_000, 1, 256), (100_000, 3, 85), (1, 1000, 1), (0, 1, 1),
    ])
    func passesHoldAtMostTheMaximumNumberOfSequences(_ batchSize: Int, _ tasks: Int, _ expected: Int) {
        let perPass = MultiTaskRunner.textsPerPass(batchSize: batchSize, taskCount: tasks)
        #expect(perPass == expected)
        #expect(perPass * tasks <= max(MultiTaskRunner.maximumSequencesPerPass, tasks))
    }
}
