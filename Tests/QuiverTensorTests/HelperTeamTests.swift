import Foundation
import Synchronization
import Testing

@testable import QuiverTensor

/// `HelperTeam`: every chunk of every step runs exactly once, a busy team says so, and `Parallel.forEachChunk` stays
/// correct when callers race for the team or nest steps.
@Suite struct HelperTeamTests {
    final class Counter: Sendable {
        let value = Atomic<Int>(0)
        func add(_ amount: Int) { value.add(amount, ordering: .relaxed) }
        var total: Int { value.load(ordering: .relaxed) }
    }

    @Test func everyChunkOfEveryStepRunsOnce() {
        let team = HelperTeam(helpers: 3)
        for step in 0..<2_000 {
            let chunks = 1 + step % 4
            let counts = (0..<chunks).map { _ in Counter() }
            #expect(team.run(chunks: chunks) { chunk in counts[chunk].add(1) })
            #expect(counts.allSatisfy { $0.total == 1 }, "step \(step)")
            if step % 500 == 0 { Thread.sleep(forTimeInterval: 0.01) }  // let the helpers fall asleep, then wake them
        }
    }

    @Test func aBusyTeamOrTooFewHelpersRunNothing() {
        let team = HelperTeam(helpers: 1)
        #expect(!team.run(chunks: 3) { _ in Issue.record("ran with too few helpers") })
        let nestedRan = Counter()
        #expect(team.run(chunks: 2) { _ in
            if team.run(chunks: 1, { _ in }) { nestedRan.add(1) }
        })
        #expect(nestedRan.total == 0, "a step within a step is refused")
    }

    @Test func racingCallersOfForEachChunkEachGetTheirSums() {
        let totals = (0..<4).map { _ in Counter() }
        DispatchQueue.concurrentPerform(iterations: 4) { caller in
            for _ in 0..<300 {
                Parallel.forEachChunk(of: 100, threads: 2) { range in
                    totals[caller].add(range.reduce(0, +))
                    // A nested split falls back to Dispatch.
                    Parallel.forEachChunk(of: 2, threads: 2) { inner in totals[caller].add(inner.count * 0) }
                }
            }
        }
        #expect(totals.allSatisfy { $0.total == 300 * 4_950 })
    }
}
