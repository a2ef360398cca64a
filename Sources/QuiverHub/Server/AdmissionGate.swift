/// Bounds how much work runs at once: `slots` requests run, up to `queueLimit` wait their turn in
/// arrival order, and any more are refused at once (the server answers 503 rather than letting
/// latency grow without bound). A waiting request that is cancelled (its client left) leaves the
/// queue at once.
actor AdmissionGate {
    let slots: Int
    let queueLimit: Int
    private(set) var running = 0
    private var waiting: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
    private var nextID = 0

    init(slots: Int, queueLimit: Int) {
        precondition(slots > 0 && queueLimit >= 0, "AdmissionGate: \(slots) slots, queue of \(queueLimit)")
        self.slots = slots
        self.queueLimit = queueLimit
    }

    var waitingCount: Int { waiting.count }

    /// Runs `body` once a slot is free.
    ///
    /// - Throws: `APIError` 503 `overloaded` when every slot is taken and the queue is full.
    func withSlot<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        try await enter()
        do {
            let result = try await body()
            leave()
            return result
        } catch {
            leave()
            throw error
        }
    }

    private func enter() async throws {
        if running < slots {
            running += 1
            return
        }
        guard waiting.count < queueLimit else {
            throw APIError(
                status: .serviceUnavailable, code: "overloaded",
                message: "\(running) inference requests are running and \(waiting.count) waiting; try again shortly",
                headers: [.retryAfter: "1"])
        }
        nextID += 1
        let id = nextID
        // The slot is handed over by `leave`, so `running` stays counted.
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiting.append((id, continuation))
                }
            }
        } onCancel: {
            Task { await self.withdraw(id) }
        }
    }

    /// Takes a cancelled request out of the queue (unless it was handed a slot meanwhile: then it
    /// runs, finds itself cancelled, and gives the slot back).
    private func withdraw(_ id: Int) {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return }
        waiting.remove(at: index).continuation.resume(throwing: CancellationError())
    }

    private func leave() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().continuation.resume()
        }
    }
}
