import Foundation
import QuiverModel
import QuiverStore

/// Runs a `PullPlan`: downloads every missing layer once over a bounded pool of connections, and
/// meanwhile imports what has arrived. An importer takes every request whose artifacts are all
/// downloaded and imports them (with the dependencies not imported yet) in one
/// `Registry.importArtifacts` call — one catalog transaction, fsyncs issued together — on a thread
/// of its own; one importer per core runs at once, on requests that share nothing not yet
/// imported. The longer an import takes, the more the next one gathers.
struct PullPipeline {
    let pull: RemotePull
    let plan: PullPlan
    let force: Bool
    /// At most this many requests per import (so one transaction and its files stay bounded), and
    /// at least this many while downloads go on (an import has a fixed cost — fsyncs, a
    /// transaction — that tiny batches would pay over and over when downloads are the slower side).
    static let batchLimit = 256
    static let batchMinimum = 32

    private var registry: Registry { pull.registry }

    /// A request still to import: its planned root and every artifact it brings in, dependencies first.
    struct Pending: Sendable {
        var request: Int
        var root: Digest
        var closure: [Digest]
    }

    /// What the downloads and the importers have done so far.
    struct Progress: Sendable {
        /// The layers each artifact (by manifest digest) downloads, and those still to come.
        var layers: [Digest: Set<Digest>] = [:]
        var outstanding: [Digest: Set<Digest>] = [:]
        /// Artifacts that cannot be imported (a download or their import failed).
        var failures: [Digest: any Error] = [:]
        var downloadsFinished = false
        /// Requests still to import, by index; those whose artifacts have all arrived, in the order
        /// they did (all an importer looks at); per waiting request, how many of its artifacts
        /// still download, and per artifact, the requests waiting for it.
        var pending: [Int: Pending] = [:]
        var ready: [Int] = []
        var waitingCount: [Int: Int] = [:]
        var waiters: [Digest: [Int]] = [:]
        /// How many failures the last look for requests they doom saw.
        var failuresSeen = 0
        /// Artifacts in the registry now, and the artifacts and downloaded layers an importer is
        /// working on (two importers never share a received file).
        var committed = Set<Digest>()
        var importing = Set<Digest>()
        var importingLayers = Set<Digest>()
        /// Downloaded layers now in the store (an importer reads them there).
        var committedLayers = Set<Digest>()
        var importers = 0
        /// Requests imported or failed.
        var finished = 0
        /// A failure of the local store: the pull stops.
        var fatal: (any Error)?
        var report = PullReport()

        var isDone: Bool { fatal != nil || (downloadsFinished && pending.isEmpty && importers == 0) }

        /// Adds a request to import, ready at once when none of its artifacts downloads anything.
        mutating func add(_ entry: Pending) {
            pending[entry.request] = entry
            let downloading = Set(entry.closure).filter { outstanding[$0]?.isEmpty == false }
            for artifact in downloading { waiters[artifact, default: []].append(entry.request) }
            if downloading.isEmpty { ready.append(entry.request) } else { waitingCount[entry.request] = downloading.count }
        }

        /// Records the end of the download of `layer`, which `artifacts` need; `error` when it failed.
        mutating func arrived(_ layer: Digest, for artifacts: [Digest], error: (any Error)?) {
            for artifact in artifacts {
                guard outstanding[artifact]?.remove(layer) != nil else { continue }
                if let error, failures[artifact] == nil { failures[artifact] = error }
                guard outstanding[artifact]?.isEmpty == true else { continue }
                for request in waiters.removeValue(forKey: artifact) ?? [] {
                    guard let count = waitingCount[request] else { continue }
                    waitingCount[request] = count > 1 ? count - 1 : nil
                    if count == 1 { ready.append(request) }
                }
            }
        }

        /// Takes the requests an importer can import now: their artifacts all downloaded, none
        /// being imported by another importer, enough of them while downloads go on. Requests that
        /// need a failed artifact fail here.
        mutating func nextBatch(importerLimit: Int, requests: [PullRequest]) -> [Pending]? {
            guard fatal == nil else { return nil }
            if failures.count != failuresSeen {
                failuresSeen = failures.count
                let failures = failures
                let doomed = pending.values.compactMap { entry in entry.closure.firstFailure(in: failures).map { (entry.request, $0) } }
                for (request, error) in doomed.sorted(by: { $0.0 < $1.0 }) {
                    pending[request] = nil
                    waitingCount[request] = nil
                    report.failed.append(TransferFailure(name: requests[request].shown, error: error))
                }
                finished += doomed.count
            }
            guard importers < importerLimit else { return nil }
            var batch: [Pending] = []
            var claimed = Set<Digest>(), claimedLayers = Set<Digest>()
            for request in ready where batch.count < PullPipeline.batchLimit {
                guard let entry = pending[request] else { continue }
                let open = entry.closure.filter { !committed.contains($0) }
                guard open.allSatisfy({ artifact in
                    !importing.contains(artifact)
                        && (layers[artifact] ?? []).allSatisfy { committedLayers.contains($0) || !importingLayers.contains($0) }
                }) else { continue }
                batch.append(entry)
                claimed.formUnion(open)
                for artifact in open { claimedLayers.formUnion((layers[artifact] ?? []).filter { !committedLayers.contains($0) }) }
            }
            guard !batch.isEmpty, downloadsFinished || batch.count >= min(PullPipeline.batchMinimum, pending.count) else { return nil }
            for entry in batch { pending[entry.request] = nil }
            ready.removeAll { pending[$0] == nil }
            importing.formUnion(claimed)
            importingLayers.formUnion(claimedLayers)
            importers += 1
            return batch
        }
    }

    func run() async throws -> PullReport {
        var progress = Progress()
        var pending: [Pending] = []
        for (index, root) in plan.roots.enumerated() {
            switch root {
            case .here(let imported): progress.report.imported.append(imported)
            case .failed(let error): progress.report.failed.append(TransferFailure(name: plan.requests[index].shown, error: error))
            case .planned(let digest):
                let closure = plan.closure(of: digest)
                if let error = closure.firstFailure(in: plan.failed) {
                    progress.report.failed.append(TransferFailure(name: plan.requests[index].shown, error: error))
                } else {
                    pending.append(Pending(request: index, root: digest, closure: closure))
                }
            }
        }
        guard !pending.isEmpty else { return progress.report }
        progress.finished = plan.requests.count - pending.count

        // Every missing layer once, whichever artifacts share it, in the order requests come.
        let order = Self.unique(pending.flatMap(\.closure))
        var jobs: [BlobDownload] = []
        var users: [Digest: [Digest]] = [:]
        let folder = try TemporaryFolder(in: registry.blobs.temporaryDirectory, prefix: "pull")
        defer { folder.remove() }
        for digest in order {
            let step = plan.steps[digest]!
            progress.report.blobsReused += step.layerCount - step.missing.count
            progress.layers[digest] = Set(step.missing.map(\.digest))
            progress.outstanding[digest] = progress.layers[digest]
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
        for entry in pending { progress.add(entry) }
        let state = Locked(progress)
        let (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let client = pull.client, frozenUsers = users, frozenJobs = jobs, session = folder.path
        let importerLimit = max(1, min(2, ProcessInfo.processInfo.activeProcessorCount))

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                _ = try? await mapConcurrently(frozenJobs, limit: client.options.parallelTransfers) { job in
                    let outcome: BlobDownload.Outcome?, failure: (any Error)?
                    do { (outcome, failure) = (try await job.run(), nil) } catch { (outcome, failure) = (nil, error) }
                    state.withLock { state in
                        state.arrived(job.digest, for: frozenUsers[job.digest] ?? [], error: failure)
                        if let outcome {
                            state.report.blobsDownloaded += 1
                            state.report.bytesDownloaded += outcome.transferred
                            state.report.bytesResumed += outcome.resumed
                        }
                    }
                    signal.yield()
                }
                state.withLock { $0.downloadsFinished = true }
                signal.yield()
            }
            signal.yield()
            for await _ in signals {
                while let batch = state.withLock({ $0.nextBatch(importerLimit: importerLimit, requests: plan.requests) }) {
                    group.addTask {
                        defer { signal.yield() }
                        await importBatch(batch, state: state, session: session)
                    }
                }
                if state.withLock(\.isDone) { break }
            }
            // The local store failed: the downloads still running are of no use.
            if state.withLock({ $0.fatal != nil }) { group.cancelAll() }
            signal.finish()
            try await group.waitForAll()
        }
        return try state.withLock { state in
            if let fatal = state.fatal { throw fatal }
            return state.report
        }
    }

    /// Imports a batch, records what went in and what failed, and frees its artifacts.
    private func importBatch(_ batch: [Pending], state: Locked<Progress>, session: String) async {
        let committed = state.withLock(\.committed)
        let artifacts = Self.unique(batch.flatMap(\.closure)).filter { !committed.contains($0) }
        let incoming = artifacts.map { digest in
            let step = plan.steps[digest]!
            return IncomingArtifact(manifest: step.manifest.bytes, config: step.config, task: step.task, tag: step.version, isRequested: step.isRequested)
        }
        let registry = registry, force = force
        let results: [Result<Registry.ImportOutcome, any Error>]
        do {
            results = artifacts.isEmpty ? [] : try await Self.offload {
                try registry.importArtifacts(incoming, force: force, takingReceived: true) { layer in
                    let path = session + "/" + layer.digest.hex
                    guard FileManager.default.fileExists(atPath: path) else {
                        throw QuiverError(.corrupt, "layer \(layer.digest) was not downloaded")
                    }
                    return path
                }
            }
        } catch {
            state.withLock { $0.fatal = $0.fatal ?? error }
            return
        }
        var imported: [PullReport.Imported] = []
        var newlyCommitted = Set<Digest>()
        var errors: [Digest: any Error] = [:]
        for (digest, result) in zip(artifacts, results) {
            switch result {
            case .success(let outcome):
                newlyCommitted.insert(digest)
                imported.append(Self.imported(outcome, step: plan.steps[digest]!))
            case .failure(let error):
                if !(error is Registry.NotNeeded) { errors[digest] = error }
            }
        }
        var failed: [TransferFailure] = []
        for entry in batch where !newlyCommitted.contains(entry.root) && !committed.contains(entry.root) {
            let cause = entry.closure.firstFailure(in: errors)
                ?? QuiverError(.corrupt, "\(plan.requests[entry.request].shown) was not imported")
            failed.append(TransferFailure(name: plan.requests[entry.request].shown, error: cause))
        }
        let (done, total) = state.withLock { state in
            state.committed.formUnion(newlyCommitted)
            for artifact in newlyCommitted { state.committedLayers.formUnion(state.layers[artifact] ?? []) }
            state.failures.merge(errors) { first, _ in first }
            state.importing.subtract(artifacts)
            for artifact in artifacts { state.importingLayers.subtract(state.layers[artifact] ?? []) }
            state.importers -= 1
            state.finished += batch.count
            state.report.imported += imported
            state.report.failed += failed
            return (state.finished, plan.requests.count)
        }
        pull.observer?(.progress(action: .pull, done: done, total: total))
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
