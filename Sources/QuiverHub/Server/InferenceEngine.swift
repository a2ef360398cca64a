import Foundation
import QuiverModel
import QuiverRuntime
import QuiverStore

/// Runs tasks for `POST /v1/infer` with what is already loaded: up to `ServerLimits.cachedBases`
/// base models and the most recently used adapters and fusions, by manifest digest (a version's
/// content never changes under its digest).
///
/// Admission per base: a request for a base model that is not loaded takes the place of the least
/// recently used one only when that one has been idle for `ServerLimits.baseResidency`; otherwise it
/// is refused at once (503 with `Retry-After`), before it waits in the queue. So a client asking for
/// more bases than the cache holds, in turn, causes at most one load per residency period and slot
/// instead of one per request.
///
/// Loading and tokenizing run on the inference thread pool, never on the server's threads; the
/// encoder passes run in `PassBatcher`, which gathers concurrent requests on one base into shared
/// passes and bounds how many run and wait (a request finding it idle runs its pass right there).
final class InferenceEngine: Sendable {
    let registry: Registry
    let batcher: PassBatcher
    let limits: ServerLimits

    private struct LoadedBase {
        var model: BaseModel
        var lastUsed: Date
    }

    private struct Loaded {
        var bases: [Int64: LoadedBase] = [:]
        var tasks: LRUCache<String, TaskModel>
    }

    private let loaded: Locked<Loaded>

    init(registry: Registry, limits: ServerLimits) {
        self.registry = registry
        self.limits = limits
        batcher = PassBatcher(budget: PassBudget(tokens: limits.inferenceTokensPerPass), queueLimit: limits.inferenceQueue)
        loaded = Locked(Loaded(tasks: LRUCache(capacity: limits.cachedAdapters)))
    }

    /// Predictions per task, in the order of `references`, as `quiver infer --json` gives them.
    func predict(_ references: [Reference], texts: [String], pairs: [String?]?, maxLength: Int?) async throws -> [TaskResults] {
        let artifacts = try await BlockingWork.run(.io) { [registry] in try Self.resolve(references, in: registry) }
        let baseID = artifacts[0].baseModelId
        try admit(baseID)
        let (runner, tasks, encodings, ranAlone) = try await BlockingWork.run(.inference) { [batcher] in
            let (base, tasks) = try self.load(artifacts)
            let runner = MultiTaskRunner(base: base, maxLength: maxLength)
            let encodings = base.tokenizer.encodeAll(texts, pairs: pairs, maxLength: runner.maxLength, threads: 1)
            let ranAlone = try batcher.runIfIdle(base: baseID, tasks: tasks, encodings: encodings) { try runner.run($0) }
            return (runner, tasks, encodings, ranAlone)
        }
        let states = try await states(ranAlone, base: baseID, tasks: tasks, encodings: encodings, runner: runner)
        return zip(tasks, states).map { task, states in
            TaskResults(
                task: task.name,
                results: MultiTaskRunner.predictions(task, states: states, texts: texts[...], pairs: pairs?[...]))
        }
    }

    /// One vector per text from base model `name` alone, pooled (and divided by its norm when `normalize`), with the
    /// number of tokens the texts took: what `POST /v1/embeddings` answers.
    ///
    /// - Throws: `APIError` 400 when `dimensions` is given and is not the model's width.
    func embed(
        base name: String, texts: [String], pooling: EmbeddingPooling, normalize: Bool, dimensions: Int?
    ) async throws -> (vectors: [[Float]], tokens: Int) {
        let row = try await BlockingWork.run(.io) { [registry] in
            guard let row = try registry.baseModel(named: name) else {
                throw QuiverError(.notFound, "no base model named '\(name)'")
            }
            return row
        }
        guard let baseID = row.id else { throw QuiverError(.corrupt, "base model '\(name)' has no id in the catalog") }
        try admit(baseID)
        let task = TaskModel(name: name, composition: .base, head: nil)
        let (runner, encodings, ranAlone) = try await BlockingWork.run(.inference) { [batcher] in
            let base = try self.loaded.withLock { loaded in try self.base(baseID, in: &loaded) }
            if let dimensions, dimensions != base.config.hiddenSize {
                throw APIError.invalidRequest(
                    "\"dimensions\" \(dimensions): the vectors of \(name) have \(base.config.hiddenSize) (they are not shortened)")
            }
            let runner = MultiTaskRunner(base: base)
            let encodings = base.tokenizer.encodeAll(texts, maxLength: runner.maxLength, threads: 1)
            let ranAlone = try batcher.runIfIdle(base: baseID, tasks: [task], encodings: encodings) { try runner.run($0) }
            return (runner, encodings, ranAlone)
        }
        let states = try await states(ranAlone, base: baseID, tasks: [task], encodings: encodings, runner: runner)
        let vectors = states[0].pooled(pooling).map { normalize ? Embedder.normalized($0) : $0 }
        return (vectors, encodings.reduce(0) { $0 + $1.count })
    }

    /// The states `PassBatcher.runIfIdle` gave (`ranAlone`), or else those of the batcher's passes the texts join.
    private func states(
        _ ranAlone: [HiddenStates]?, base: Int64, tasks: [TaskModel], encodings: [Encoding], runner: MultiTaskRunner
    ) async throws -> [HiddenStates] {
        if let ranAlone { return ranAlone }
        return try await batcher.submit(base: base, tasks: tasks, encodings: encodings) { try runner.run($0) }
    }

    /// What is loaded: the base models' names and the cached tasks' manifest digests (for tests and logs).
    var loadedModels: (bases: Set<String>, tasks: Set<String>) {
        loaded.withLock { (Set($0.bases.values.map(\.model.name)), Set($0.tasks.keys)) }
    }

    /// The versions asked for, which must share one base model.
    private static func resolve(_ references: [Reference], in registry: Registry) throws -> [ArtifactRow] {
        let artifacts = try references.map { try registry.resolve($0) }
        guard let first = artifacts.first else { throw QuiverError(.invalidInput, "no task given") }
        for artifact in artifacts {
            if let note = artifact.engineNote { throw QuiverError(.unsupported, "\(artifact.task):\(artifact.version): \(note)") }
        }
        for artifact in artifacts where artifact.baseModelId != first.baseModelId {
            let names = try [first, artifact].map { try registry.baseModel(id: $0.baseModelId)?.name ?? "?" }
            throw QuiverError(.incompatible, "\(artifact.task):\(artifact.version) belongs to base model '\(names[1])', \(first.task):\(first.version) to '\(names[0])'; tasks run together must share one base")
        }
        return artifacts
    }

    // MARK: - Admission per base

    /// Refuses a request whose base model could be loaded only by evicting one used within its
    /// residency period.
    ///
    /// - Throws: `APIError` 503 `overloaded` with `Retry-After`.
    private func admit(_ baseID: Int64, now: Date = Date()) throws(APIError) {
        let wait = loaded.withLock { loaded in Self.evictionWait(for: baseID, in: loaded, limits: limits, now: now) }
        guard let wait, wait > 0 else { return }
        throw APIError(
            status: .serviceUnavailable, code: "overloaded",
            message: "\(limits.cachedBases) other base models are loaded and in use; this one can replace one in \(Int(wait.rounded(.up))) s",
            headers: [.retryAfter: String(Int(wait.rounded(.up)))])
    }

    /// Nil when the base is loaded or there is room; else the seconds until the least recently used
    /// base may be evicted (zero or less: now).
    private static func evictionWait(for baseID: Int64, in loaded: Loaded, limits: ServerLimits, now: Date) -> TimeInterval? {
        guard loaded.bases[baseID] == nil, loaded.bases.count >= limits.cachedBases,
              let oldest = loaded.bases.values.min(by: { $0.lastUsed < $1.lastUsed })
        else { return nil }
        return oldest.lastUsed.addingTimeInterval(limits.baseResidency).timeIntervalSince(now)
    }

    // MARK: - Running

    /// The base model of `artifacts` and their tasks, loaded or from the caches.
    private func load(_ artifacts: [ArtifactRow]) throws -> (BaseModel, [TaskModel]) {
        try loaded.withLock { loaded throws -> (BaseModel, [TaskModel]) in
            let base = try self.base(artifacts[0].baseModelId, in: &loaded)
            let tasks = try artifacts.map { artifact in
                if let task = loaded.tasks.value(for: artifact.manifestDigest) { return task }
                let task = try registry.loadTask(Reference(task: artifact.task, version: artifact.version), base: base)
                loaded.tasks.insert(task, for: artifact.manifestDigest)
                return task
            }
            return (base, tasks)
        }
    }

    /// The base model `id`, loading it (in place of the least recently used one when the cache is
    /// full) when it is not loaded.
    private func base(_ id: Int64, in loaded: inout Loaded) throws -> BaseModel {
        let now = Date()
        if let current = loaded.bases[id] {
            loaded.bases[id]?.lastUsed = now
            return current.model
        }
        // Admitted earlier; another request may have taken the room meanwhile.
        if let wait = Self.evictionWait(for: id, in: loaded, limits: limits, now: now), wait > 0 {
            throw APIError(
                status: .serviceUnavailable, code: "overloaded", message: "the base model cache is in use; try again shortly",
                headers: [.retryAfter: String(Int(wait.rounded(.up)))])
        }
        guard let row = try registry.baseModel(id: id) else {
            throw QuiverError(.corrupt, "an adapter names a base model the catalog does not hold (id \(id))")
        }
        if loaded.bases.count >= limits.cachedBases, let oldest = loaded.bases.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
            loaded.bases[oldest] = nil  // free it before loading the next
        }
        let model = try BaseModel(registry: registry, base: row.name)
        loaded.bases[id] = LoadedBase(model: model, lastUsed: now)
        return model
    }
}
