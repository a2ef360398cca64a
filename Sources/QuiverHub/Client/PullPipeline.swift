import Foundation
import QuiverModel
import QuiverStore

/// Runs a `PullPlan`: downloads every missing layer once over a bounded pool of connections, and
/// meanwhile imports what has arrived. Whenever the importer is free it takes every request whose
/// artifacts are all downloaded and imports them (with the dependencies not imported yet) in one
/// `Registry.importArtifacts` call — one catalog transaction, fsyncs issued together — off the
/// tasks that move bytes. The longer an import takes, the more the next one gathers.
struct PullPipeline {
    let pull: RemotePull
    let plan: PullPlan
    let force: Bool
    /// At most this many requests per import (so one transaction and its files stay bounded).
    static let batchLimit = 256

    private var registry: Registry { pull.registry }

    /// What the downloads have done so far, shared with the importer.
    private struct Downloads {
        /// Layers still to come, by the artifact (manifest digest) that needs them.
        var outstanding: [Digest: Set<Digest>] = [:]
        /// Artifacts a download failed for.
        var failed: [Digest: any Error] = [:]
        var finished = false
        var report = PullReport()
    }

    func run() async throws -> PullReport {
        var report = PullReport()
        var pending: [(request: Int, root: Digest, closure: [Digest])] = []
        for (index, root) in plan.roots.enumerated() {
            switch root {
            case .here(let imported): report.imported.append(imported)
            case .failed(let error): report.failed.append(PullReport.Failure(name: plan.requests[index].shown, error: error))
            case .planned(let digest):
                if let error = plan.planningFailure(of: digest) {
                    report.failed.append(PullReport.Failure(name: plan.requests[index].shown, error: error))
                } else {
                    pending.append((index, digest, plan.closure(of: digest)))
                }
            }
        }
        guard !pending.isEmpty else { return report }

        // Every missing layer once, whichever artifacts share it, in the order requests come.
        let order = Self.unique(pending.flatMap(\.closure))
        var downloads = Downloads()
        var jobs: [BlobDownload] = []
        var users: [Digest: [Digest]] = [:]
        let folder = try TemporaryFolder(in: registry.blobs.temporaryDirectory, prefix: "pull")
        defer { folder.remove() }
        for digest in order {
            let step = plan.steps[digest]!
            report.blobsReused += step.layerCount - step.missing.count
            downloads.outstanding[digest] = Set(step.missing.map(\.digest))
            pull.observer?(.artifact(action: .pull, repository: step.repository, reference: step.version ?? step.reference))
            for layer in step.missing {
                users[layer.digest, default: []].append(digest)
                guard users[layer.digest]!.count == 1 else { continue }
                jobs.append(BlobDownload(
                    client: pull.client, repository: pull.client.location.repository(step.repository), digest: layer.digest, size: layer.size,
                    partPath: registry.blobs.downloadPath(of: layer.digest), destination: folder.path + "/" + layer.digest.hex,
                    progress: TransferProgress(
                        digest: layer.digest.description, label: "\(step.repository)/\(layer.annotations?[AnnotationKey.title] ?? "layer")",
                        observer: pull.observer)))
            }
        }
        downloads.report = report
        let state = Locked(downloads)
        let (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let client = pull.client
        let frozenUsers = users, frozenJobs = jobs

        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                _ = try? await mapConcurrently(frozenJobs, limit: client.options.parallelTransfers) { job in
                    let result: Result<BlobDownload.Outcome, any Error>
                    do { result = .success(try await job.run()) } catch { result = .failure(error) }
                    state.withLock { state in
                        for user in frozenUsers[job.digest] ?? [] {
                            state.outstanding[user]?.remove(job.digest)
                            if case .failure(let error) = result, state.failed[user] == nil { state.failed[user] = error }
                        }
                        if case .success(let outcome) = result {
                            state.report.blobsDownloaded += 1
                            state.report.bytesDownloaded += outcome.transferred
                            state.report.bytesResumed += outcome.resumed
                        }
                    }
                    signal.yield()
                }
                state.withLock { $0.finished = true }
                signal.yield()
                signal.finish()
            }
            var importer = Importer(pipeline: self, pending: pending, session: folder.path)
            for await _ in signals {
                try await importer.importReady(state)
            }
            try await importer.importReady(state)
            try await group.waitForAll()
            var report = state.withLock { $0.report }
            report.imported += importer.imported
            report.failed += importer.failed
            return report
        }
    }

    /// Imports requests as they become ready, remembering what is in the registry already.
    private struct Importer {
        let pipeline: PullPipeline
        var pending: [(request: Int, root: Digest, closure: [Digest])]
        let session: String
        var committed = Set<Digest>()
        var imported: [PullReport.Imported] = []
        var failed: [PullReport.Failure] = []

        /// Takes the requests whose artifacts have all arrived (or failed) and imports them.
        mutating func importReady(_ state: Locked<Downloads>) async throws {
            while true {
                let (ready, downloadFailures) = state.withLock { state in
                    (pending.filter { entry in entry.closure.allSatisfy { committed.contains($0) || state.outstanding[$0]?.isEmpty != false } }
                        .prefix(PullPipeline.batchLimit), state.failed)
                }
                guard !ready.isEmpty else { return }
                let taken = Set(ready.map(\.request))
                pending.removeAll { taken.contains($0.request) }
                var importable: [(request: Int, root: Digest, closure: [Digest])] = []
                for entry in ready {
                    if let error = entry.closure.lazy.compactMap({ downloadFailures[$0] }).first {
                        failed.append(PullReport.Failure(name: pipeline.plan.requests[entry.request].shown, error: error))
                    } else {
                        importable.append(entry)
                    }
                }
                try await importBatch(importable)
            }
        }

        private mutating func importBatch(_ entries: [(request: Int, root: Digest, closure: [Digest])]) async throws {
            guard !entries.isEmpty else { return }
            let plan = pipeline.plan
            let artifacts = PullPipeline.unique(entries.flatMap(\.closure)).filter { !committed.contains($0) }
            let incoming = artifacts.map { digest in
                let step = plan.steps[digest]!
                return IncomingArtifact(manifest: step.manifest.bytes, config: step.config, task: step.task, tag: step.version, isRequested: step.isRequested)
            }
            let registry = pipeline.registry, force = pipeline.force, session = session
            let results = try await PullPipeline.offload {
                try registry.importArtifacts(incoming, force: force, takingReceived: true) { layer in
                    let path = session + "/" + layer.digest.hex
                    guard FileManager.default.fileExists(atPath: path) else {
                        throw QuiverError(.corrupt, "layer \(layer.digest) was not downloaded")
                    }
                    return path
                }
            }
            var errors: [Digest: any Error] = [:]
            for (digest, result) in zip(artifacts, results) {
                let step = plan.steps[digest]!
                switch result {
                case .success(let outcome):
                    committed.insert(digest)
                    imported.append(Self.imported(outcome, step: step))
                case .failure(let error):
                    if !(error is Registry.NotNeeded) { errors[digest] = error }
                }
            }
            for entry in entries where !committed.contains(entry.root) {
                let cause = entry.closure.lazy.compactMap { errors[$0] }.first
                    ?? QuiverError(.corrupt, "\(plan.requests[entry.request].shown) was not imported")
                failed.append(PullReport.Failure(name: plan.requests[entry.request].shown, error: cause))
            }
            let done = plan.requests.count - pending.count
            pipeline.pull.observer?(.progress(action: .pull, done: done, total: plan.requests.count))
        }

        private static func imported(_ result: Registry.ImportOutcome, step: PullPlan.Step) -> PullReport.Imported {
            switch result {
            case .artifact(let push):
                return PullReport.Imported(
                    repository: step.repository, name: "\(push.artifact.task):\(push.artifact.version)", kind: step.kind,
                    outcome: PullReport.Outcome(push.outcome), digest: step.manifest.digest)
            case .base(let base):
                return PullReport.Imported(
                    repository: step.repository, name: base.base.name, kind: .base, outcome: base.added ? .added : .unchanged,
                    digest: step.manifest.digest)
            }
        }
    }

    /// Runs blocking work (file system, SQLite, hashing) on a thread of its own, so the tasks that
    /// move bytes keep the cooperative pool.
    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    static func unique(_ digests: [Digest]) -> [Digest] {
        var seen = Set<Digest>()
        return digests.filter { seen.insert($0).inserted }
    }
}
