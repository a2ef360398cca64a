import Foundation
import QuiverModel

/// Gathers the texts of concurrent inference requests into shared encoder passes, and answers each request when all
/// of its texts have run.
///
/// One pass runs at a time (each uses every core), on a thread of the batcher's own. When it ends, the next pass takes what
/// waits: the requests on the base model of the longest-waiting one, one text from each in turn until the pass's
/// budget of tokens is spent — so a large request shares every pass with the small ones behind it instead of holding
/// them back, and takes the room they leave. Requests of different adapters, fusions and task lists on one base run
/// in the same pass (`MultiTaskRunner.run`, a mixed batch).
///
/// A request that finds the batcher idle and fits in one pass runs it at once on its own thread (`runIfIdle`): a
/// lightly loaded server then pays no hand-over to the pass thread and back, two thread wake-ups per request.
///
/// Backpressure: at most `queueLimit` requests wait or run; any more are refused at once (503 with `Retry-After`).
/// A request whose client leaves is dropped from the queue (its texts already in a running pass finish unseen).
final class PassBatcher: Sendable {
    /// Runs one pass over the groups of a base model, as `MultiTaskRunner.run` does.
    typealias RunPass = @Sendable ([PassGroup]) throws -> [[HiddenStates]]

    let budget: PassBudget
    let queueLimit: Int
    private let state = Locked(State())

    init(budget: PassBudget = PassBudget(), queueLimit: Int) {
        precondition(queueLimit > 0, "PassBatcher: queue limit \(queueLimit)")
        self.budget = budget
        self.queueLimit = queueLimit
    }

    /// One request's share of the work.
    private struct Job {
        let id: Int
        /// The base model the request's tasks run on: passes never mix two.
        let base: Int64
        let run: RunPass
        let tasks: [TaskModel]
        let encodings: [Encoding]
        /// Texts already given to a pass.
        var next = 0
        /// For each task, the states of the texts run so far, a part per pass.
        var parts: [[HiddenStates]]
        let continuation: CheckedContinuation<[HiddenStates], any Error>

        var remaining: ArraySlice<Encoding> { encodings[next...] }
    }

    private struct State {
        var jobs: [Job] = []
        var nextID = 0
        /// A pass is running, on the pass thread or on a request's own (`runIfIdle`).
        var running = false
        /// The request running its own pass, if any (it counts towards `queueLimit`).
        var leading = 0
        /// Passes run so far, and the requests each held (for tests and logs).
        var passSizes: [Int] = []

        /// Requests waiting or running.
        var pending: Int { jobs.count + leading }
    }

    /// Requests waiting or running.
    var pendingCount: Int { state.withLock { $0.pending } }
    /// How many requests each pass so far held, in order.
    var passSizes: [Int] { state.withLock { $0.passSizes } }

    /// The states of `encodings` after every task in `tasks`, one `HiddenStates` per task, once all have run.
    ///
    /// - Throws: `APIError` 503 when `queueLimit` requests are already waiting or running; the pass's error when it
    ///   fails; `CancellationError` when the caller is cancelled while waiting.
    func submit(base: Int64, tasks: [TaskModel], encodings: [Encoding], run: @escaping RunPass) async throws -> [HiddenStates] {
        precondition(!tasks.isEmpty && !encodings.isEmpty, "PassBatcher: a request without tasks or texts")
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let startsRunner = state.withLock { state -> Result<Bool, any Error> in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    guard state.pending < queueLimit else {
                        return .failure(
                            APIError(
                                status: .serviceUnavailable, code: "overloaded",
                                message: "\(state.pending) inference requests are waiting or running; try again shortly",
                                headers: [.retryAfter: "1"]))
                    }
                    state.jobs.append(
                        Job(id: id, base: base, run: run, tasks: tasks, encodings: encodings, parts: tasks.map { _ in [] },
                            continuation: continuation))
                    defer { state.running = true }
                    return .success(!state.running)
                }
                switch startsRunner {
                case .failure(let error): continuation.resume(throwing: error)
                case .success(true): wakeRunner()
                case .success(false): break
                }
            }
        } onCancel: {
            withdraw(id)
        }
    }

    /// Runs the request's one pass on the calling thread when no pass runs and none waits, and returns its states
    /// (as `submit` would); nil, having run nothing, when the batcher is busy or the texts need more than one pass —
    /// the caller then submits them. Requests arriving meanwhile wait for the pass thread, woken when this pass ends.
    /// Call it from a thread that may block for a pass (the inference pool), never from Swift's cooperative threads.
    func runIfIdle(base: Int64, tasks: [TaskModel], encodings: [Encoding], run: RunPass) throws -> [HiddenStates]? {
        precondition(!tasks.isEmpty && !encodings.isEmpty, "PassBatcher: a request without tasks or texts")
        guard Self.share([(encodings.map(\.count), tasks.count)], budget: budget)[0] == encodings.count else { return nil }
        let claimed = state.withLock { state in
            guard !state.running, state.jobs.isEmpty else { return false }
            state.running = true
            state.leading = 1
            state.passSizes.append(1)
            return true
        }
        guard claimed else { return nil }
        let result = Result { try run([PassGroup(encodings: encodings, tasks: tasks)]) }
        let othersWait = state.withLock { state in
            state.leading = 0
            state.running = !state.jobs.isEmpty
            return state.running
        }
        if othersWait { wakeRunner() }
        return try result.get()[0]
    }

    /// Takes a cancelled request out of the queue.
    private func withdraw(_ id: Int) {
        let job = state.withLock { state -> Job? in
            guard let index = state.jobs.firstIndex(where: { $0.id == id }) else { return nil }
            return state.jobs.remove(at: index)
        }
        job?.continuation.resume(throwing: CancellationError())
    }

    // MARK: - The pass loop

    /// Signalled when requests arrive at an idle batcher.
    private let work = DispatchSemaphore(value: 0)
    private let runnerStarted = Locked(false)

    /// Starts the pass thread on first use, and wakes it: one thread for the server's life, so that a request
    /// arriving at an idle server pays no thread start.
    private func wakeRunner() {
        let start = runnerStarted.withLock { started in
            defer { started = true }
            return !started
        }
        if start {
            let thread = Thread { [self] in
                while true {
                    work.wait()
                    runPasses()
                }
            }
            thread.name = "quiver-inference-passes"
            thread.start()
        }
        work.signal()
    }

    /// Runs passes until no request waits.
    private func runPasses() {
        while let pass = nextPass() {
            let result = Result { try pass.run(pass.groups) }
            finish(pass, result)
        }
    }

    private struct Pass {
        let run: RunPass
        /// The jobs in the pass and the texts each gave.
        let members: [(id: Int, texts: Range<Int>)]
        let groups: [PassGroup]
    }

    /// The next pass (the texts it takes are marked as given), or nil — and the loop stops — when nothing waits.
    private func nextPass() -> Pass? {
        state.withLock { state in
            guard let first = state.jobs.first(where: { $0.next < $0.encodings.count }) else {
                state.running = false
                return nil
            }
            let candidates = state.jobs.indices.filter { state.jobs[$0].base == first.base && state.jobs[$0].next < state.jobs[$0].encodings.count }
            let taken = Self.share(
                candidates.map { (lengths: state.jobs[$0].remaining.map(\.count), copies: state.jobs[$0].tasks.count) },
                budget: budget)
            var members: [(id: Int, texts: Range<Int>)] = []
            var groups: [PassGroup] = []
            for (candidate, count) in zip(candidates, taken) where count > 0 {
                let texts = state.jobs[candidate].next..<(state.jobs[candidate].next + count)
                state.jobs[candidate].next = texts.upperBound
                members.append((state.jobs[candidate].id, texts))
                groups.append(PassGroup(encodings: Array(state.jobs[candidate].encodings[texts]), tasks: state.jobs[candidate].tasks))
            }
            state.passSizes.append(members.count)
            return Pass(run: first.run, members: members, groups: groups)
        }
    }

    /// Hands a pass's states to its jobs, and answers those now complete (or all of them when the pass failed).
    private func finish(_ pass: Pass, _ result: Result<[[HiddenStates]], any Error>) {
        var answers: [(CheckedContinuation<[HiddenStates], any Error>, Result<[HiddenStates], any Error>)] = []
        state.withLock { state in
            for (index, member) in pass.members.enumerated() {
                guard let position = state.jobs.firstIndex(where: { $0.id == member.id }) else { continue }  // withdrawn
                switch result {
                case .failure(let error):
                    answers.append((state.jobs.remove(at: position).continuation, .failure(error)))
                case .success(let states):
                    for task in states[index].indices { state.jobs[position].parts[task].append(states[index][task]) }
                    let job = state.jobs[position]
                    if job.next == job.encodings.count {  // passes run one at a time: this was its last
                        state.jobs.remove(at: position)
                        answers.append((job.continuation, .success(job.parts.map { HiddenStates(concatenating: $0) })))
                    }
                }
            }
        }
        for (continuation, answer) in answers { continuation.resume(with: answer) }
    }

    /// How many of its next texts each candidate gives the pass: one from each in turn (in arrival order) while the
    /// budget of tokens and sequences allows — every task's copy counted — and at least one text in all.
    static func share(_ candidates: [(lengths: [Int], copies: Int)], budget: PassBudget) -> [Int] {
        var taken = [Int](repeating: 0, count: candidates.count)
        var (tokens, sequences) = (0, 0)
        var progressed = true
        while progressed {
            progressed = false
            for (index, candidate) in candidates.enumerated() where taken[index] < candidate.lengths.count {
                let (length, copies) = (candidate.lengths[taken[index]] * candidate.copies, candidate.copies)
                let isFirst = sequences == 0
                guard isFirst || (tokens + length <= budget.tokens && sequences + copies <= PassBudget.maximumSequences) else { continue }
                taken[index] += 1
                tokens += length
                sequences += copies
                progressed = true
            }
        }
        return taken
    }
}
