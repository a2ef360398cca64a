import Foundation

// MARK: - A batch of chunk jobs on worker threads

/// Runs `process(worker, job)` for each job of a batch on up to `workers.count` threads, in the background, and
/// reports the outcome in ``wait()``.
///
/// Each thread owns one worker (its zlib stream and scratch memory) and claims jobs from a shared counter until
/// none are left, so a slow core never holds the others back. Workers and jobs are `@unchecked Sendable`
/// classes under one ownership rule: while a batch runs, a worker is used by its own thread only, a job by the
/// call for that job only, and nobody else touches either until ``wait()`` has returned (the dispatch group's
/// wait publishes the threads' writes to the caller). With one worker or one job the batch runs inline, on the
/// calling thread, inside `start`.
final class ParallelBatch: @unchecked Sendable {
    private let group = DispatchGroup()
    private let progress: SharedProgress

    private init(jobCount: Int) { progress = SharedProgress(jobCount: jobCount) }

    static func start<Worker: Sendable, Job: Sendable>(
        jobs: ArraySlice<Job>, workers: [Worker], _ process: @escaping @Sendable (Worker, Job) throws -> Void
    ) -> ParallelBatch {
        precondition(!workers.isEmpty)
        let batch = ParallelBatch(jobCount: jobs.count)
        let jobs = Array(jobs)
        let threadCount = min(workers.count, jobs.count)
        if threadCount <= 1 {
            batch.runJobs(jobs, worker: workers[0], process)
        } else {
            for thread in 0..<threadCount {
                DispatchQueue.global().async(group: batch.group) {
                    batch.runJobs(jobs, worker: workers[thread], process)
                }
            }
        }
        return batch
    }

    /// Waits for every job, then rethrows the error of the first failed job in batch order, if any.
    func wait() throws {
        group.wait()
        if let error = progress.firstError { throw error }
    }

    private func runJobs<Worker, Job>(_ jobs: [Job], worker: Worker, _ process: (Worker, Job) throws -> Void) {
        while let index = progress.claimNext() {
            do { try process(worker, jobs[index]) } catch { progress.record(error, job: index) }
        }
    }
}

// MARK: - Shared progress

/// The next job to claim and the earliest error, behind a lock.
private final class SharedProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let jobCount: Int
    private var nextJob = 0
    private var failure: (job: Int, error: any Error)?

    init(jobCount: Int) { self.jobCount = jobCount }

    /// The next unclaimed job, or nil when all are claimed or one has failed.
    func claimNext() -> Int? {
        lock.withLock {
            guard nextJob < jobCount, failure == nil else { return nil }
            defer { nextJob += 1 }
            return nextJob
        }
    }

    func record(_ error: any Error, job: Int) {
        lock.withLock {
            if failure.map({ job < $0.job }) ?? true { failure = (job, error) }
        }
    }

    var firstError: (any Error)? { lock.withLock { failure?.error } }
}
