import Foundation
import QuiverModel
import QuiverStore

/// What a pull will import: the artifacts asked for and the ones they need (base models, fusion
/// members), each fetched once, with the layers to download. Built level by level: the manifests
/// (and configs) of one level are fetched concurrently, and what they require is the next level.
struct PullPlan {
    /// A manifest to fetch: a request, or something a planned artifact needs.
    struct Want: Sendable {
        var repository: String
        var reference: String
        var task: String?
        var version: String?
        /// The artifact that needs it (for messages); nil for a request.
        var neededBy: String?
        /// The index of the request it is, or nil for a dependency.
        var request: Int?
    }

    /// One artifact to import, with the layers to download for it.
    struct Step: Sendable {
        var repository: String
        /// The tag or digest it was asked by.
        var reference: String
        /// `REPOSITORY:TAG` or `REPOSITORY@DIGEST`, for messages.
        var shown: String
        var task: String?
        var version: String?
        var manifest: RemoteManifest
        var kind: ManifestKind
        var config: [UInt8]
        var layerCount: Int
        var missing: [Descriptor]
        /// The manifest digests of the planned artifacts it needs.
        var requires: [Digest] = []
        /// Asked for (not only needed by something that was).
        var isRequested = false
    }

    /// Where a request stands after planning.
    enum Root {
        case planned(Digest)
        case here(PullReport.Imported)
        case failed(any Error)
    }

    var requests: [PullRequest] = []
    var roots: [Root] = []
    /// Planned artifacts by manifest digest.
    var steps: [Digest: Step] = [:]
    /// Artifacts that cannot be imported (their manifest could not be fetched or accepted), by
    /// manifest digest.
    var failed: [Digest: any Error] = [:]

    mutating func add(_ requests: [PullRequest], pulling pull: RemotePull, pullBase: Bool) async throws {
        self.requests = requests
        var level: [Want] = []
        roots = requests.enumerated().map { index, request in
            do {
                try Reference.validateTask(request.task)
            } catch {
                return .failed(error)
            }
            level.append(Want(repository: request.task, reference: request.reference, task: request.task, version: request.version, request: index))
            return .failed(QuiverError(.notFound, "\(request.shown) was not fetched"))  // until it is
        }
        var wanted = Set<Digest>()
        while !level.isEmpty {
            let fetched = try await mapConcurrently(level, limit: RemotePull.parallelManifests) { want in
                do { return Result<RemotePull.Fetched, any Error>.success(try await pull.fetch(want)) } catch { return .failure(error) }
            }
            var next: [Want] = []
            for (want, result) in zip(level, fetched) {
                switch result {
                case .failure(let error):
                    if let request = want.request {
                        roots[request] = .failed(error)
                    } else if let digest = try? Digest(parsing: want.reference) {
                        failed[digest] = error
                    }
                case .success(.here(let imported)):
                    if let request = want.request { roots[request] = .here(imported) }
                case .success(.artifact(var step, let requirements)):
                    let digest = step.manifest.digest
                    if let request = want.request { roots[request] = .planned(digest) }
                    if steps[digest] != nil {
                        if want.request != nil { steps[digest]!.isRequested = true }
                        continue
                    }
                    step.isRequested = want.request != nil
                    for requirement in requirements {
                        let (dependency, dependencyDigest): (Want, Digest)
                        switch requirement {
                        case .base(let name, let weights, let manifestDigest):
                            (dependency, dependencyDigest) = (Want(
                                repository: Registry.baseRepository(name), reference: manifestDigest.description, neededBy: step.shown), manifestDigest)
                            if !pullBase {
                                failed[digest] = QuiverError(
                                    .notFound,
                                    "\(step.shown) needs base model \(name) (\(weights)), which the local registry lacks; pull without --no-base, or add it with `quiver base add`")
                            }
                        case .member(let task, let version, let manifestDigest):
                            (dependency, dependencyDigest) = (Want(
                                repository: task, reference: manifestDigest.description, task: task, version: version, neededBy: step.shown), manifestDigest)
                        }
                        step.requires.append(dependencyDigest)
                        if pullBase || dependency.task != nil, steps[dependencyDigest] == nil, wanted.insert(dependencyDigest).inserted {
                            next.append(dependency)
                        }
                    }
                    steps[digest] = step
                }
            }
            level = next
        }
    }

    /// The artifacts a request brings in, dependencies first (depth-first, each once).
    func closure(of root: Digest) -> [Digest] {
        var order: [Digest] = []
        var seen = Set<Digest>()
        func visit(_ digest: Digest) {
            guard seen.insert(digest).inserted else { return }
            for dependency in steps[digest]?.requires ?? [] { visit(dependency) }
            order.append(digest)
        }
        visit(root)
        return order
    }
}

extension Array where Element == Digest {
    /// The failure of the first of these artifacts (a request's closure, dependencies first) that
    /// has one: why the request cannot go in.
    func firstFailure(in failures: [Digest: any Error]) -> (any Error)? {
        lazy.compactMap { failures[$0] }.first
    }
}
