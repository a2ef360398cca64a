import Dispatch

/// Runs blocking work (model loading and inference, imports that compress weights) on a Dispatch
/// thread, so that the server's cooperative threads keep answering other requests meanwhile.
enum BlockingWork {
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(with: Result { try body() })
            }
        }
    }
}
