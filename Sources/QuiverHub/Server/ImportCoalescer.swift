import QuiverModel
import QuiverStore

/// Runs one import per key at a time: a request for a key already being imported waits for that
/// import and shares its outcome instead of importing the same content again (many clients
/// pushing the same base model at once import it once).
actor ImportCoalescer {
    private var running: [String: Task<Digest, any Error>] = [:]

    func run(key: String, _ body: @escaping @Sendable () async throws -> Digest) async throws -> Digest {
        if let task = running[key] { return try await task.value }
        let task = Task { try await body() }
        running[key] = task
        defer { running[key] = nil }
        return try await task.value
    }
}
