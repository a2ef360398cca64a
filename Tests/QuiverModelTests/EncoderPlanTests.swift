import Testing

@testable import QuiverModel

/// How forward passes are cut into slices and threads.
@Suite struct EncoderPlanTests {
    @Test func largeBatchIsSlicedForTheQueue() {
        let plan = ForwardPlan(batch: 32, sequenceLength: 128, threads: 2)
        #expect(plan.slices.count == 8 && plan.slices.allSatisfy { $0.count == 4 })
        #expect(plan.workers == 2 && plan.threading == .single && plan.headThreads == 1)
        #expect(plan.largestSliceRows == 512)
        // Slices cover the batch once, in order.
        #expect(plan.slices.flatMap { Array($0) } == Array(0..<32))
    }

    @Test func shortSequencesMakeLongerSlicesButAtLeastTwoPerThread() {
        let plan = ForwardPlan(batch: 40, sequenceLength: 16, threads: 2)
        #expect(plan.slices.count == 4 && plan.slices.map(\.count) == [10, 10, 10, 10])
        let uneven = ForwardPlan(batch: 7, sequenceLength: 100, threads: 2)
        #expect(uneven.slices.map(\.count) == [1, 1, 1, 1, 1, 1, 1] && uneven.workers == 2)
    }

    @Test func singleItemOrFewTokensSplitTheProducts() {
        let single = ForwardPlan(batch: 1, sequenceLength: 16, threads: 2)
        #expect(single.slices == [0..<1] && single.workers == 1)
        // The threads sharing the products share the heads too, however short the item: the helper team keeps them
        // awake between the steps.
        #expect(single.threading == .splitOutput(threads: 2) && single.headThreads == 2)
        let long = ForwardPlan(batch: 1, sequenceLength: 256, threads: 2)
        #expect(long.headThreads == 2)
        let few = ForwardPlan(batch: 4, sequenceLength: 20, threads: 2)
        #expect(few.slices == [0..<4] && few.threading == .splitOutput(threads: 2))
    }

    @Test func oneThreadRunsEverySliceItself() {
        let plan = ForwardPlan(batch: 32, sequenceLength: 128, threads: 1)
        #expect(plan.workers == 1 && plan.threading == .single && plan.slices.count == 8)
        let single = ForwardPlan(batch: 1, sequenceLength: 16, threads: 1)
        #expect(single.threading == .single && single.headThreads == 1)
    }

    @Test func queueHandsOutEverySliceOnce() {
        let queue = SliceQueue(count: 3)
        #expect([queue.take(), queue.take(), queue.take(), queue.take()] == [0, 1, 2, nil])
    }
}
