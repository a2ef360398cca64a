import Foundation
import QuiverModel
import QuiverStore

/// Runs tasks for `POST /v1/infer` with what is already loaded: one base model in memory (another
/// base replaces it when a task of that base is asked for) and the most recently used adapters
/// and fusions, by manifest digest (a version's content never changes under its digest).
///
/// Inference runs on a Dispatch thread, never on the server's threads; `AdmissionGate` bounds how
/// many requests run and wait.
final class InferenceEngine: Sendable {
    let registry: Registry
    let gate: AdmissionGate
    let batchSize = 32

    private struct Loaded {
        var base: (id: Int64, model: BaseModel)?
        var tasks: LRUCache<String, TaskModel>
    }

    private let loaded: Locked<Loaded>

    init(registry: Registry, limits: ServerLimits) {
        self.registry = registry
        gate = AdmissionGate(slots: limits.inferenceSlots, queueLimit: limits.inferenceQueue)
        loaded = Locked(Loaded(base: nil, tasks: LRUCache(capacity: limits.cachedAdapters)))
    }

    /// Predictions per task, in the order of `references`, as `quiver infer --json` gives them.
    func predict(_ references: [Reference], texts: [String], pairs: [String?]?, maxLength: Int?) async throws -> [TaskResults] {
        try await gate.withSlot {
            try await BlockingWork.run { try self.predictNow(references, texts: texts, pairs: pairs, maxLength: maxLength) }
        }
    }

    /// What is loaded: the base model's name and the cached tasks' manifest digests (for tests and logs).
    var loadedModels: (base: String?, tasks: Set<String>) {
        loaded.withLock { ($0.base?.model.name, Set($0.tasks.keys)) }
    }

    private func predictNow(_ references: [Reference], texts: [String], pairs: [String?]?, maxLength: Int?) throws -> [TaskResults] {
        let artifacts = try references.map { try registry.resolve($0) }
        guard let first = artifacts.first else { throw QuiverError(.invalidInput, "no task given") }
        for artifact in artifacts where artifact.baseModelId != first.baseModelId {
            let names = try [first, artifact].map { try registry.catalog.baseModel(id: $0.baseModelId)?.name ?? "?" }
            throw QuiverError(.incompatible, "\(artifact.task):\(artifact.version) belongs to base model '\(names[1])', \(first.task):\(first.version) to '\(names[0])'; tasks run together must share one base")
        }
        let (base, tasks) = try loaded.withLock { loaded throws -> (BaseModel, [TaskModel]) in
            let base = try self.base(first.baseModelId, in: &loaded)
            let tasks = try artifacts.map { artifact in
                if let task = loaded.tasks.value(for: artifact.manifestDigest) { return task }
                let task = try registry.loadTask(Reference(task: artifact.task, version: artifact.version), base: base.config)
                loaded.tasks.insert(task, for: artifact.manifestDigest)
                return task
            }
            return (base, tasks)
        }
        let runner = MultiTaskRunner(base: base, batchSize: batchSize, maxLength: maxLength)
        return try runner.predict(tasks, texts: texts, pairs: pairs)
    }

    /// The base model `id`, loading it in place of the current one when it is another.
    private func base(_ id: Int64, in loaded: inout Loaded) throws -> BaseModel {
        if let current = loaded.base, current.id == id { return current.model }
        guard let row = try registry.catalog.baseModel(id: id) else {
            throw QuiverError(.corrupt, "an adapter names a base model the catalog does not hold (id \(id))")
        }
        loaded.base = nil  // free the previous base before loading the next
        let model = try BaseModel(registry: registry, base: row.name)
        loaded.base = (id, model)
        return model
    }
}
