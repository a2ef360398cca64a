import Foundation
import Synchronization

/// Helper threads that stay awake between the short parallel steps of a pass, so that a step split between the
/// cores does not wait for a sleeping thread to be woken.
///
/// A forward pass over a few tokens is ~30 products of 50–300 µs, each split between the cores. Handing half of one
/// to a thread of Dispatch's pool wakes a sleeping thread every time, which in a virtual machine takes tens of
/// microseconds (an idle virtual CPU is halted): on two cores a 9-token pass ran 2.9 ms on one thread and 2.7 ms on
/// two. The team's helpers spin for a while (`spinIterations`, then `yieldingIterations`) after each step, waiting
/// for the next, and only then sleep. One caller at a time uses the team; another caller, or a step nested in a
/// step, gets `false` and uses Dispatch (`Parallel.forEachChunk` does this).
final class HelperTeam: @unchecked Sendable {
    static let shared = HelperTeam(helpers: Parallel.availableCores - 1)

    /// Checks of the next step's arrival while a helper holds its core: a few microseconds, the gap between two
    /// steps of a pass.
    static let spinIterations = 2_000
    /// Then checks with the core yielded in between (`sched_yield`), before the helper sleeps: between passes a
    /// server's other threads (HTTP, JSON, tokenization) get the core at once, and when none wants it each check
    /// comes back at once. Spinning alone for 20,000 checks took a quarter of `quiver serve`'s samples under 16
    /// clients, away from those threads.
    static let yieldingIterations = 200

    let helpers: Int

    /// The current step, guarded by `lock`.
    private let lock = NSLock()
    private var body: ((Int) -> Void)?
    private var step = 0
    private var chunks = 0
    private var nextChunk = 0

    /// The newest step, for the helpers to spin on without the lock.
    private let announced = Atomic<Int>(0)
    /// Chunks of the current step finished (by the helpers and the caller).
    private let finished = Atomic<Int>(0)
    private let inUse = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    private let wake = DispatchSemaphore(value: 0)
    private let started = Atomic<Bool>(false)

    init(helpers: Int) { self.helpers = max(0, helpers) }

    /// Runs `body(chunk)` for every chunk in `0..<chunks` on the caller and the helpers, and returns when all have
    /// finished; false — nothing run — when the team is in use or has fewer than `chunks − 1` helpers.
    func run(chunks count: Int, _ body: (Int) -> Void) -> Bool {
        guard count >= 1, count - 1 <= helpers,
              inUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return false }
        defer { inUse.store(false, ordering: .releasing) }
        startHelpers()
        withoutActuallyEscaping(body) { body in
            let current = lock.withLock {
                step += 1
                self.body = body
                chunks = count
                nextChunk = 0
                return step
            }
            finished.store(0, ordering: .relaxed)
            announced.store(current, ordering: .sequentiallyConsistent)
            let sleeping = sleepers.exchange(0, ordering: .sequentiallyConsistent)
            for _ in 0..<sleeping { wake.signal() }
            while runChunk(of: current) { finished.add(1, ordering: .releasing) }
            while finished.load(ordering: .acquiring) < count {}
            lock.withLock { self.body = nil }
        }
        return true
    }

    /// Takes the next chunk of step `current` and runs it; false when none is left. Never inlined: the closure it
    /// holds must be released before the chunk is counted as finished (`withoutActuallyEscaping` checks it).
    @inline(never)
    private func runChunk(of current: Int) -> Bool {
        let claimed = lock.withLock { () -> (body: (Int) -> Void, chunk: Int)? in
            guard step == current, nextChunk < chunks, let body else { return nil }
            defer { nextChunk += 1 }
            return (body, nextChunk)
        }
        guard let claimed else { return false }
        claimed.body(claimed.chunk)
        return true
    }

    private func startHelpers() {
        guard helpers > 0, started.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        for index in 0..<helpers {
            let thread = Thread { [self] in helperLoop() }
            thread.name = "quiver-helper-\(index + 1)"
            thread.start()
        }
    }

    private func helperLoop() {
        var seen = 0
        while true {
            var spins = 0
            var current = announced.load(ordering: .acquiring)
            while current == seen {
                spins += 1
                if spins > Self.spinIterations, spins <= Self.spinIterations + Self.yieldingIterations {
                    sched_yield()
                } else if spins > Self.spinIterations + Self.yieldingIterations {
                    // Announce the sleep, then look once more: a step announced in between is either seen here or
                    // finds this helper among the sleepers (an extra signal only makes a later wait return early).
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    if announced.load(ordering: .sequentiallyConsistent) == seen { wake.wait() }
                    spins = 0
                }
                current = announced.load(ordering: .acquiring)
            }
            seen = current
            while runChunk(of: current) { finished.add(1, ordering: .releasing) }
        }
    }
}
