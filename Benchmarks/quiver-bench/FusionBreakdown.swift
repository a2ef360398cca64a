// quiver-bench adapters --breakdown: where the time of an AdapterFusion goes, step by step, on one thread.
//
// The steps of `CompositionHooks`' fuse (Sources/QuiverModel/Adapters/CompositionHooks.swift) are replayed here with
// the same kernels on the real fusion weights of one site, the plain loops copied as they are, and timed one by one.
// Beside them, the same fusion computed in the members' bottleneck space — a proposal, not what Quiver runs: its
// output is compared with the replayed one.
//
// The bottleneck-space form, per row x (h) with members i (aᵢ = relu(Dᵢx + dᵢ), uᵢ = Uᵢaᵢ + cᵢ):
//   kq     = Wkᵀ(Wq x + bq) = M x + β            M = WkᵀWq, β = Wkᵀbq, folded once at load
//   sᵢ     = kq·uᵢ = (Uᵢᵀkq)·aᵢ + kq·cᵢ          one GEMM kq·[U₁ … Uₙ] of width n·b, then dots of length b
//   fused  = V Σ pᵢuᵢ = Σ pᵢ(VUᵢ)aᵢ + Σ pᵢ(Vcᵢ)  one GEMM [p₁a₁ … pₙaₙ]·[VU₁ … VUₙ]ᵀ, VUᵢ folded once at load
// so a row costs h² + 3·n·b·h multiply-adds instead of 3·h² + 2·n·b·h + 2·n·h, and the n member outputs (rows × h
// each) are never written out. It holds for members whose output is affine in aᵢ (no ln_after, fixed scaling —
// seq_bn, double_seq_bn) and residual_before false; other configs keep the current path.
import Foundation
import QuiverModel
import QuiverStore
import QuiverTensor

func printFusionBreakdown(base: BaseModel, fusions: [(name: String, fusion: Fusion)], single: TaskModel, inputs: [BenchFusionInput]) throws {
    let h = base.config.hiddenSize
    let sites = base.config.layerCount
    for input in inputs {
        let rows = input.rows
        let repeats = rows >= 1024 ? 5 : 200
        print("\n## AdapterFusion, step by step — \(input.label), 1 thread, one slice of \(rows) rows")
        print("ms per forward (\(sites) fusion sites; each step the best of \(repeats))")
        let forward = { (composition: Composition) in
            try Measure.best(repeats > 5 ? 20 : 3) {
                _ = try base.encoder.forward(input.input, hooks: CompositionHooks(composition, batch: input.input.batch), threads: 1)
            }
        }
        let singleForward = try forward(single.composition)
        let baseForward = try Measure.best(repeats > 5 ? 20 : 3) { _ = try base.encoder.forward(input.input, threads: 1) }
        guard case .adapter(let singleAdapter as BottleneckAdapter) = single.composition else { return }
        let singleSteps = SiteReplay(
            members: [singleAdapter.modules[AdapterSite(layer: 0, location: .output)]!], layer: nil, rows: rows, hidden: h)
        let singleUp = singleSteps.time(repeats: repeats) { $0.memberUpProjections() } * Double(sites)
        print("  base model alone: \(ms(baseForward)); single adapter: \(ms(singleForward)), of which its up-projection \(ms(singleUp))")

        var table: [(String, [String])] = []
        func row(_ label: String, _ values: [String]) { table.append((label, values)) }
        var columns: [[Double]] = []
        var proposed: [[Double]] = []
        var differences: [String] = []
        var measuredRatio: [String] = []
        for (_, fusion) in fusions {
            let site = AdapterSite(layer: 0, location: .output)
            let replay = SiteReplay(members: fusion.members.map { $0.modules[site]! }, layer: fusion.layers[site]!, rows: rows, hidden: h)
            let t = { (body: (SiteReplay) -> Void) in replay.time(repeats: repeats, body) * Double(sites) }
            columns.append([
                t { $0.memberUpProjections() }, t { $0.queryProjection() }, t { $0.keyOnQuery() }, t { $0.scoresLoop() },
                t { $0.softmax() }, t { $0.mixingLoop() }, t { $0.valueProjection() },
            ])
            let folded = BottleneckSpaceFusion(replay)
            proposed.append([
                t { folded.downProjections($0) }, t { folded.foldedKeyQuery($0) }, t { folded.keyQueryOnUps($0) },
                t { folded.scores($0) }, t { $0.softmax() }, t { folded.mix($0) },
            ])
            differences.append(String(format: "%.1e", folded.compare(replay)))
            measuredRatio.append(Measure.format(try forward(.fuse(fusion)) / singleForward))
        }
        let currentLabels = [
            "member up-projections (n × down, ReLU, up)", "query projection (h×h)", "key applied to the query (h×h)",
            "scores qᵀuᵢ (plain loop)", "softmax over n", "mixing Σ pᵢuᵢ (plain loop)", "value projection (h×h)",
        ]
        for (index, label) in currentLabels.enumerated() { row("  " + label, columns.map { ms($0[index]) }) }
        row("  = fusion's own work", columns.map { ms($0.reduce(0, +)) })
        row("predicted fuse/single", columns.map { Measure.format((singleForward - singleUp + $0.reduce(0, +)) / singleForward) })
        row("measured fuse/single (whole forward)", measuredRatio)
        row("proposed: bottleneck space", columns.map { _ in "" })
        let proposedLabels = [
            "  down-projections, concatenated (n·b wide) + ReLU", "  kq = M x + β (Wk folded into Wq)", "  kq·[U₁ … Uₙ] (n·b wide) and kq·cᵢ",
            "  scores in bottleneck space (b-long dots)", "  softmax over n", "  [pᵢaᵢ]·[VUᵢ]ᵀ + p·[Vcᵢ]ᵀ",
        ]
        for (index, label) in proposedLabels.enumerated() { row(label, proposed.map { ms($0[index]) }) }
        row("  = fusion's own work", proposed.map { ms($0.reduce(0, +)) })
        row("predicted fuse/single", proposed.map { Measure.format((singleForward - singleUp + $0.reduce(0, +)) / singleForward) })
        row("max |proposed − current| / max |current|", differences)
        let width = table.map(\.0.count).max()! + 2
        print(pad("step", width) + fusions.map { pad($0.name, 10) }.joined())
        for (label, values) in table { print(pad(label, width) + values.map { pad($0, 10) }.joined()) }
    }
}

/// One shape for the breakdown: the encoder input (for the whole-forward references) and its row count.
struct BenchFusionInput {
    let label: String
    let input: EncoderInput
    var rows: Int { input.batch * input.sequenceLength }
}

private func ms(_ seconds: Double) -> String { Measure.format(seconds * 1000, seconds < 0.01 ? 3 : 1) }

// MARK: - The current computation, step by step

/// The buffers and steps of one fusion site as `CompositionHooks` computes it (dynamic config: query, key, value,
/// temperature 1, residual_before false), on random adapter inputs.
private final class SiteReplay: @unchecked Sendable {
    let members: [BottleneckModule]
    let layer: FusionLayerWeights?
    let rows: Int, h: Int, n: Int
    var count: Int { rows * h }
    /// x, query, keyQuery, context, fused are (rows, h); ups is (n, rows, h); scores is (rows, n).
    let x, work, ups, query, keyQuery, scores, context, fused: UnsafeMutablePointer<Float>

    init(members: [BottleneckModule], layer: FusionLayerWeights?, rows: Int, hidden h: Int) {
        self.members = members
        self.layer = layer
        self.rows = rows
        self.h = h
        n = members.count
        func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
            let pointer = UnsafeMutablePointer<Float>.allocate(capacity: count)
            pointer.initialize(repeating: 0, count: count)
            return pointer
        }
        x = buffer(rows * h)
        work = buffer(rows * max(h, members.map(\.bottleneckSize).max()!))
        ups = buffer(members.count * rows * h)
        (query, keyQuery, context, fused) = (buffer(rows * h), buffer(rows * h), buffer(rows * h), buffer(rows * h))
        scores = buffer(rows * members.count)
        var generator = SeededGenerator(seed: 9)
        let values = generator.normal(count: rows * h, standardDeviation: 1)
        for index in 0..<(rows * h) { x[index] = values[index] }
    }

    deinit {
        for pointer in [x, work, ups, query, keyQuery, scores, context, fused] { pointer.deallocate() }
    }

    /// Best seconds of `step` over `repeats` calls (the steps before it run once first, so its inputs are real).
    func time(repeats: Int, _ step: (SiteReplay) -> Void) -> Double {
        if layer != nil { runAll() }
        return Measure.best(repeats) { step(self) }
    }

    func runAll() {
        memberUpProjections()
        queryProjection()
        keyOnQuery()
        scoresLoop()
        softmax()
        mixingLoop()
        valueProjection()
    }

    func memberUpProjections() {
        for (index, module) in members.enumerated() {
            let b = module.bottleneckSize
            Linear.forward(x, weight: module.down.weight.readPointer, bias: module.down.bias.readPointer, into: work,
                           rows: rows, inFeatures: h, outFeatures: b, threading: .single)
            Activation.relu(work, into: work, count: rows * b)
            Linear.forward(work, weight: module.up.weight.readPointer, bias: module.up.bias.readPointer, into: ups + index * count,
                           rows: rows, inFeatures: b, outFeatures: h, threading: .single)
        }
    }

    func queryProjection() {
        let projection = layer!.query!
        Linear.forward(x, weight: projection.weight.readPointer, bias: projection.bias.readPointer, into: query,
                       rows: rows, inFeatures: h, outFeatures: h, threading: .single)
    }

    func keyOnQuery() {
        Gemm.sgemm(.normal, .normal, m: rows, n: h, k: h, a: query, lda: h, b: layer!.key!.weight.readPointer, ldb: h,
                   c: keyQuery, ldc: h, threading: .single)
    }

    /// Copied from CompositionHooks.fuse (temperature 1).
    func scoresLoop() {
        for row in 0..<rows {
            let q = keyQuery + row * h
            for index in 0..<n {
                let u = ups + index * count + row * h
                var dot: Float = 0
                for column in 0..<h { dot += q[column] * u[column] }
                scores[row * n + index] = dot / 1
            }
        }
    }

    func softmax() { Softmax.forward(scores, into: scores, rows: rows, cols: n) }

    /// Copied from CompositionHooks.fuse.
    func mixingLoop() {
        context.initialize(repeating: 0, count: count)
        for row in 0..<rows {
            let c = context + row * h
            for index in 0..<n {
                let p = scores[row * n + index]
                let u = ups + index * count + row * h
                for column in 0..<h { c[column] += p * u[column] }
            }
        }
    }

    func valueProjection() {
        Linear.forward(context, weight: layer!.value!.readPointer, bias: nil, into: fused, rows: rows, inFeatures: h,
                       outFeatures: h, threading: .single)
    }
}

// MARK: - The proposal: the fusion in the members' bottleneck space

/// Weights folded once (they would be at load time) and the per-forward steps of the bottleneck-space fusion.
private final class BottleneckSpaceFusion: @unchecked Sendable {
    let rows: Int, h: Int, n: Int, b: Int
    var width: Int { n * b }
    /// down (n·b, h) and its bias: the members' down-projections stacked.
    let down: FloatBuffer, downBias: FloatBuffer
    /// M = WkᵀWq (h, h) and β = Wkᵀbq (h), as a Linear layer.
    let keyQuery: FloatBuffer, keyQueryBias: FloatBuffer
    /// upT (n·b, h): row i·b+k is column k of Uᵢ. upBias (n, h): row i is cᵢ.
    let upT: FloatBuffer, upBias: FloatBuffer
    /// valueUp (h, n·b): column block i is V·Uᵢ. valueBias (h, n): column i is V·cᵢ.
    let valueUp: FloatBuffer, valueBias: FloatBuffer
    /// activations, weighted, projected are (rows, n·b); kq, fused (rows, h); scores (rows, n).
    let activations, weighted, kq, projected, scores, fused: FloatBuffer

    init(_ replay: SiteReplay) {
        let (h, n) = (replay.h, replay.n)
        let b = replay.members[0].bottleneckSize
        precondition(replay.members.allSatisfy { $0.bottleneckSize == b }, "one bottleneck size")
        (rows, self.h, self.n, self.b) = (replay.rows, h, n, b)
        let layer = replay.layer!
        down = FloatBuffer(count: n * b * h)
        downBias = FloatBuffer(count: n * b)
        upT = FloatBuffer(count: n * b * h)
        upBias = FloatBuffer(count: n * h)
        for (i, module) in replay.members.enumerated() {
            (down.pointer + i * b * h).update(from: module.down.weight.readPointer, count: b * h)
            (downBias.pointer + i * b).update(from: module.down.bias.readPointer, count: b)
            (upBias.pointer + i * h).update(from: module.up.bias.readPointer, count: h)
            let up = module.up.weight.readPointer  // (h, b)
            for c in 0..<h {
                for k in 0..<b { upT.pointer[(i * b + k) * h + c] = up[c * b + k] }
            }
        }
        let (wq, bq, wk) = (layer.query!.weight.readPointer, layer.query!.bias.readPointer, layer.key!.weight.readPointer)
        keyQuery = FloatBuffer(count: h * h)
        keyQueryBias = FloatBuffer(count: h)
        Gemm.sgemm(.transposed, .normal, m: h, n: h, k: h, a: wk, lda: h, b: wq, ldb: h, c: keyQuery.pointer, ldc: h, threading: .single)
        Gemm.sgemm(.transposed, .normal, m: h, n: 1, k: h, a: wk, lda: h, b: bq, ldb: 1, c: keyQueryBias.pointer, ldc: 1, threading: .single)
        let v = layer.value!.readPointer
        valueUp = FloatBuffer(count: h * n * b)
        valueBias = FloatBuffer(count: h * n)
        for (i, module) in replay.members.enumerated() {
            Gemm.sgemm(.normal, .normal, m: h, n: b, k: h, a: v, lda: h, b: module.up.weight.readPointer, ldb: b,
                       c: valueUp.pointer + i * b, ldc: n * b, threading: .single)
        }
        Gemm.sgemm(.normal, .transposed, m: h, n: n, k: h, a: v, lda: h, b: upBias.readPointer, ldb: h, c: valueBias.pointer, ldc: n,
                   threading: .single)
        activations = FloatBuffer(count: rows * n * b)
        weighted = FloatBuffer(count: rows * n * b)
        kq = FloatBuffer(count: rows * h)
        projected = FloatBuffer(count: rows * n * b)
        scores = FloatBuffer(count: rows * n)
        fused = FloatBuffer(count: rows * h)
    }

    /// activations = relu(x·downᵀ + downBias): all members' down-projections in one product.
    func downProjections(_ replay: SiteReplay) {
        Linear.forward(replay.x, weight: down.readPointer, bias: downBias.readPointer, into: activations.pointer, rows: rows,
                       inFeatures: h, outFeatures: width, threading: .single)
        Activation.relu(activations.pointer, into: activations.pointer, count: rows * width)
    }

    func foldedKeyQuery(_ replay: SiteReplay) {
        Linear.forward(replay.x, weight: keyQuery.readPointer, bias: keyQueryBias.readPointer, into: kq.pointer, rows: rows,
                       inFeatures: h, outFeatures: h, threading: .single)
    }

    /// projected = kq·[U₁ … Uₙ]; scores = kq·cᵢ (the constant part of each member's score).
    func keyQueryOnUps(_ replay: SiteReplay) {
        Linear.forward(kq.readPointer, weight: upT.readPointer, bias: nil, into: projected.pointer, rows: rows, inFeatures: h,
                       outFeatures: width, threading: .single)
        Linear.forward(kq.readPointer, weight: upBias.readPointer, bias: nil, into: scores.pointer, rows: rows, inFeatures: h,
                       outFeatures: n, threading: .single)
    }

    /// scores[r, i] = kq·cᵢ + Σₖ projected[r, i·b+k]·activations[r, i·b+k], into the replay's scores for the softmax.
    func scores(_ replay: SiteReplay) {
        let (a, g, s) = (activations.readPointer, projected.readPointer, scores.readPointer)
        for row in 0..<rows {
            for i in 0..<n {
                let offset = row * width + i * b
                var dot = s[row * n + i]
                for k in 0..<b { dot += g[offset + k] * a[offset + k] }
                replay.scores[row * n + i] = dot
            }
        }
    }

    /// fused = [pᵢaᵢ]·[VUᵢ]ᵀ + p·[Vcᵢ]ᵀ, with p the softmaxed scores in the replay.
    func mix(_ replay: SiteReplay) {
        let (a, w) = (activations.readPointer, weighted.pointer)
        for row in 0..<rows {
            for i in 0..<n {
                let p = replay.scores[row * n + i]
                let offset = row * width + i * b
                for k in 0..<b { w[offset + k] = p * a[offset + k] }
            }
        }
        Linear.forward(weighted.readPointer, weight: valueUp.readPointer, bias: nil, into: fused.pointer, rows: rows,
                       inFeatures: width, outFeatures: h, threading: .single)
        Gemm.sgemm(.normal, .transposed, m: rows, n: h, k: n, a: replay.scores, lda: n, b: valueBias.readPointer, ldb: n, beta: 1,
                   c: fused.pointer, ldc: h, threading: .single)
    }

    /// max |fused − replay.fused| / max |replay.fused| after both ran in full on the same input.
    func compare(_ replay: SiteReplay) -> Double {
        replay.runAll()
        downProjections(replay)
        foldedKeyQuery(replay)
        keyQueryOnUps(replay)
        scores(replay)
        replay.softmax()
        mix(replay)
        var difference: Float = 0, scale: Float = 0
        for index in 0..<(rows * h) {
            difference = max(difference, abs(fused.pointer[index] - replay.fused[index]))
            scale = max(scale, abs(replay.fused[index]))
        }
        return Double(difference / max(scale, .leastNormalMagnitude))
    }
}
