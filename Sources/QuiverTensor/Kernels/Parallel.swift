import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Splitting independent work over the machine's cores.
///
/// The kernels themselves are single-threaded. On two cores, running one single-threaded call per core on
/// independent pieces (rows of a product, batch items, attention heads) was as fast as oneDNN's own OpenMP
/// threading on an idle machine, faster for the attention heads, and — unlike OpenMP, whose team spin-waits — never
/// slower than one thread when the other core was busy; see docs/kernels.md. `Parallel.forEachChunk` is that form.
public enum Parallel {
    /// The number of cores the process may use.
    public static var availableCores: Int {
        #if canImport(Glibc) || canImport(Darwin)
            return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
            return 1
        #endif
    }

    /// Runs `body` on `0..<count` cut into at most `threads` contiguous, disjoint chunks of near-equal size, the
    /// chunks concurrently (the calling thread runs one of them), and returns when all have finished.
    ///
    /// With `threads == 1` or `count <= 1` the body runs once on the calling thread, with no synchronisation.
    /// `body` must only write memory that belongs to the chunk it is given.
    ///
    /// ```swift
    /// Parallel.forEachChunk(of: batch * heads, threads: 2) { items in
    ///     for item in items { /* one (batch, head) */ }
    /// }
    /// ```
    public static func forEachChunk(of count: Int, threads: Int, _ body: @Sendable (Range<Int>) -> Void) {
        forEachChunk(of: count, threads: threads) { _, range in body(range) }
    }

    /// `forEachChunk`, telling `body` which chunk it runs as well (0 ..< min(threads, count)): no two calls running at
    /// once share a chunk index, so it can pick per-thread scratch.
    public static func forEachChunk(of count: Int, threads: Int, _ body: @Sendable (_ chunk: Int, Range<Int>) -> Void) {
        precondition(count >= 0 && threads >= 1, "Parallel.forEachChunk: count \(count), threads \(threads)")
        let chunks = min(threads, count)
        guard chunks > 1 else {
            if count > 0 { body(0, 0..<count) }
            return
        }
        // The team's helpers stay awake between the steps of a pass; when the team is busy (another caller, or a
        // step within a step), Dispatch's pool.
        let ranOnTeam = HelperTeam.shared.run(chunks: chunks) { chunk in body(chunk, chunkRange(chunk, of: chunks, count: count)) }
        guard !ranOnTeam else { return }
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            body(chunk, chunkRange(chunk, of: chunks, count: count))
        }
    }

    /// The `chunk`-th of `chunks` near-equal contiguous pieces of `0..<count` (the first `count % chunks` pieces
    /// are one longer).
    public static func chunkRange(_ chunk: Int, of chunks: Int, count: Int) -> Range<Int> {
        let base = count / chunks
        let remainder = count % chunks
        let start = chunk * base + min(chunk, remainder)
        return start..<(start + base + (chunk < remainder ? 1 : 0))
    }
}
