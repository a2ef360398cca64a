// Fuzz target: what `quiver serve` parses from a request before anything else looks at it — the path below
// /v2/ (repository names, tags, digests, upload ids), `Range` and `Content-Range` headers, the JSON body of
// POST /v1/infer and /v1/embeddings — the TASK[:VERSION] references of the command line and the JSON API, and the
// `WWW-Authenticate` challenges the client reads from a remote registry.
// Built into module QuiverHub (a subset of its files) by scripts/fuzz.sh; see docs/fuzzing.md.

import Foundation
import QuiverModel
import QuiverStore

nonisolated(unsafe) public var fuzzSink = 0

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHub(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)

    // The path, as the router splits it.
    let components = text.split(separator: "/", omittingEmptySubsequences: false)
    for namespace in ["quiver", "acme/nlp"] {
        if let route = try? DistributionRoute(components: components, namespace: namespace) {
            switch route {
            case .tags(let name), .uploads(let name), .manifest(let name, _), .blob(let name, _), .upload(let name, _):
                _ = name.description
            case .catalog: break
            }
        }
    }
    _ = try? RepositoryName.validateNamespace(text)
    _ = try? Reference(parsing: text)

    // Headers, used the way the controllers use them.
    for blobSize in [0, 1, 4096, Int.max] {
        if let range = try? ByteRanges.blobRange(text, size: blobSize) {
            guard range.lowerBound >= 0, range.upperBound < blobSize else {
                fatalError("range \(range) outside a \(blobSize)-byte blob")
            }
            guard range.count >= 1 else { fatalError("empty range \(range)") }
        }
    }
    // The upload controller compares the announced length with the bytes it received (kept observable in
    // `fuzzSink`, or the optimiser drops the computation and its overflow check with it).
    if let range = try? ByteRanges.contentRange(text) { fuzzSink &+= range.count }

    // A remote registry's `WWW-Authenticate` header, as the client reads it.
    for challenge in AuthChallenge.parse(text) {
        guard !challenge.scheme.isEmpty, challenge.scheme == challenge.scheme.lowercased() else {
            fatalError("challenge with scheme '\(challenge.scheme)'")
        }
        fuzzSink &+= challenge.parameters.count
    }

    // The inference body.
    if let request = try? InferenceRequest(json: bytes, limits: ServerLimits()) { _ = try? request.references() }
    if let request = try? EmbeddingsRequest(json: bytes, limits: ServerLimits()) {
        guard !request.input.isEmpty, request.input.count <= ServerLimits().inferenceTexts else {
            fatalError("embeddings request with \(request.input.count) inputs")
        }
        if let dimensions = request.dimensions, dimensions < 1 { fatalError("dimensions \(dimensions)") }
    }
    return 0
}
