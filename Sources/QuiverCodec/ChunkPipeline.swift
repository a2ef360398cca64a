// MARK: - Windows of chunks through fill, process, drain

/// Moves chunks through three stages: `fill` (read input into a job, on the caller's thread), `process` (encode
/// or decode, on worker threads) and `drain` (write the job's output, on the caller's thread, in chunk order).
///
/// Two windows of jobs alternate, so that while the workers process one window the caller fills the next and
/// drains the previous: reading and writing overlap with the work. Memory stays at two windows of jobs whatever
/// the number of chunks.
enum ChunkPipeline {
    static func run<Job: AnyObject & Sendable, Worker: Sendable>(
        chunkCount: Int, windows: [[Job]], workers: [Worker],
        fill: (_ job: Job, _ chunkIndex: Int) throws -> Void,
        process: @escaping @Sendable (Worker, Job) throws -> Void,
        drain: (Job) throws -> Void
    ) throws {
        precondition(windows.count == 2 && windows.allSatisfy { !$0.isEmpty || chunkCount == 0 })
        var nextChunk = 0
        var window = 0
        var running: (batch: ParallelBatch, jobs: ArraySlice<Job>)?
        defer { try? running?.batch.wait() }  // on an early exit, never leave workers touching our jobs

        while nextChunk < chunkCount || running != nil {
            var filled: ArraySlice<Job> = []
            if nextChunk < chunkCount {
                filled = windows[window].prefix(chunkCount - nextChunk)
                do {
                    for (offset, job) in filled.enumerated() { try fill(job, nextChunk + offset) }
                } catch {
                    // Report problems in stream order: an error in the running (earlier) window comes first.
                    try running?.batch.wait()
                    running = nil
                    throw error
                }
                nextChunk += filled.count
            }
            let finished = running
            running = nil
            try finished?.batch.wait()
            if !filled.isEmpty {
                running = (ParallelBatch.start(jobs: filled, workers: workers, process), filled)
                window = 1 - window
            }
            for job in finished?.jobs ?? [] { try drain(job) }
        }
    }
}
