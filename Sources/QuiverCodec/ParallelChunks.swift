import Foundation

// MARK: - Running chunk work on several threads

/// Runs chunk work on up to `workers.count` threads with `DispatchQueue.concurrentPerform`.
///
/// Each thread owns one worker (its zlib stream and scratch memory) and claims item indices from a shared
/// counter until none are left, so a slow core never holds the others back. Workers and per-item state are
/// `@unchecked Sendable` classes under one rule: during `run`, a worker is used by its own thread only and an
/// item's state by the call for that item only. `concurrentPerform` returns after every thread has finished,
/// which publishes their writes back to the caller.
enum ParallelChunks {
    /// Calls `work(worker, item)` once for each item in `0..<itemCount`, then rethrows the error of the lowest
    /// failed item, if any (so errors are reported in input order whatever the scheduling).
    static func run<Worker: Sendable>(
        itemCount: Int, workers: [Worker], _ work: @Sendable (Worker, Int) throws -> Void
    ) throws {
        precondition(!workers.isEmpty)
        if workers.count == 1 || itemCount <= 1 {
            for item in 0..<itemCount { try work(workers[0], item) }
            return
        }
        let progress = SharedProgress(itemCount: itemCount)
        DispatchQueue.concurrentPerform(iterations: min(workers.count, itemCount)) { thread in
            while let item = progress.claimNext() {
                do { try work(workers[thread], item) } catch { progress.record(error, item: item) }
            }
        }
        if let error = progress.firstError { throw error }
    }
}

/// The next item to claim and the earliest error, behind a lock.
private final class SharedProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let itemCount: Int
    private var nextItem = 0
    private var failure: (item: Int, error: any Error)?

    init(itemCount: Int) { self.itemCount = itemCount }

    /// The next unclaimed item, or nil when all are claimed or one has failed.
    func claimNext() -> Int? {
        lock.withLock {
            guard nextItem < itemCount, failure == nil else { return nil }
            defer { nextItem += 1 }
            return nextItem
        }
    }

    func record(_ error: any Error, item: Int) {
        lock.withLock {
            if failure == nil || item < failure!.item { failure = (item, error) }
        }
    }

    var firstError: (any Error)? { lock.withLock { failure?.error } }
}
