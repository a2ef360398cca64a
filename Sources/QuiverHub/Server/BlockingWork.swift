import NIOPosix

/// Runs work that blocks a thread — SQLite (which may wait out another process's write), the
/// registry lock (which `gc` in another process may hold for long), fsync, reads of blob files,
/// imports that decode and hash gigabytes, inference — on bounded thread pools of its own, never on
/// Swift's cooperative threads (as many as cores), which must stay free to answer other requests.
///
/// Three pools, so that work stuck behind the registry lock never holds up reads:
enum BlockingWork {
    enum Pool: Sendable {
        /// Catalog queries, reads of blob files and writes of upload chunks: short, never waiting on a lock.
        case io
        /// Work that takes the registry lock or syncs the disk: imports, deletes, finishing uploads.
        case locking
        /// Model loading, tokenizing, and a pass when the batcher is idle (`PassBatcher.runIfIdle`).
        case inference
    }

    private static let io = started(threads: 4)
    private static let locking = started(threads: 4)
    private static let inference = started(threads: 2)

    private static func started(threads: Int) -> NIOThreadPool {
        let pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        return pool
    }

    /// Runs `body` on a thread of `pool`; a caller cancelled before its turn comes runs nothing.
    static func run<T: Sendable>(_ pool: Pool, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        switch pool {
        case .io: try await io.runIfActive(body)
        case .locking: try await locking.runIfActive(body)
        case .inference: try await inference.runIfActive(body)
        }
    }
}
