import Testing

@testable import QuiverModel

/// How forward passes are cut into slices and threads.
@Suite struct EncoderPlanTests {
    @Test func largeBatchIsSlicedForTheQueue() {
        let plan = ForwardPlan(batch: 32, sequenceLength: 128, threads: 2)
        // 512 rows while a quarter of the rows left is more, then smaller: the last slices are single items.
        #expect(plan.slices.map(\.count) == [4, 4, 4, 4, 4, 3, 2, 1, 1, 1, 1, 1, 1, 1])
        #expect(plan.workers == 2 && plan.threading == .single && plan.headThreads == 1)
        #expect(plan.largestSliceRows == 512)
        // Slices cover the batch once, in order.
        #expect(plan.slices.flatMap { Array($0) } == Array(0..<32))
    }

    @Test func shortSequencesMakeLongerSlicesShrinkingToTheSmallest() {
        // 640 rows: a quarter of the rows left per slice (160, 120, 92, 72 → 10, 7, 5, 4 items), then 64-row slices.
        let plan = ForwardPlan(batch: 40, sequenceLength: 16, threads: 2)
        #expect(plan.slices.map(\.count) == [10, 7, 5, 4, 4, 4, 4, 2])
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
        #expect(plan.workers == 1 && plan.threading == .single && plan.slices.map(\.count) == [4, 4, 4, 4, 4, 4, 4, 2, 1, 1])
        let single = ForwardPlan(batch: 1, sequenceLength: 16, threads: 1)
        #expect(single.threading == .single && single.headThreads == 1)
    }

    @Test func queueHandsOutEverySliceOnce() {
        let queue = SliceQueue(count: 3)
        #expect([queue.take(), queue.take(), queue.take(), queue.take()] == [0, 1, 2, nil])
    }
}
