import Foundation

/// Runs blocking `work` — a child process, a wait for the registry lock — on a thread of its own.
/// Not on Swift's cooperative threads (as many as cores: two blocked there stall every test beside
/// them), nor on Dispatch's global queues, which on Linux run on the same few threads.
public func onThreadOfItsOwn<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try work() }) }.start()
    }
}
