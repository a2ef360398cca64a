import QuiverTensor

/// Runs compositions inside the encoder: each batch item has its own composition (a mixed batch, like
/// the `adapters` library's BatchSplit or PEFT's `adapter_names`), while the base model's products run
/// once over the whole batch.
public struct CompositionHooks: EncoderHooks {
    public let compositions: [Composition]
    /// For each batch item, the index of its composition.
    public let itemComposition: [Int]
    public let largestAttentionPrefix: Int
    /// For each composition, its adapters that act at the projections or in the attention (looked up once).
    let adapters: [[any EncoderAdapter]]

    public init(compositions: [Composition], itemComposition: [Int]) {
        precondition(itemComposition.allSatisfy { compositions.indices.contains($0) }, "CompositionHooks: item without a composition")
        self.compositions = compositions
        self.itemComposition = itemComposition
        largestAttentionPrefix = compositions.map(\.attentionPrefixLength).max() ?? 0
        adapters = compositions.map(\.adapters)
    }

    /// One composition for every item of a batch.
    public init(_ composition: Composition, batch: Int) {
        self.init(compositions: [composition], itemComposition: Array(repeating: 0, count: batch))
    }

    // MARK: - EncoderHooks

    public func scratchFloats(rows: Int, config: BertConfig) -> Int {
        rows * (compositions.map { $0.scratchPerRow(hiddenSize: config.hiddenSize) }.max() ?? 0)
    }

    public func addProjectionDelta(_ context: ProjectionHookContext) {
        let site = LoRASite(layer: context.layer, projection: context.site)
        for group in groups(context.slice) {
            for adapter in adapters[group.composition] { adapter.changeOutput(of: site, context, rows: group.rows) }
        }
    }

    public func scalesProjectionInput(layer: Int, site: ProjectionSite) -> Bool {
        let site = LoRASite(layer: layer, projection: site)
        return adapters.contains { $0.contains { $0.scalesInput(of: site) } }
    }

    public func scaleProjectionInput(_ context: ProjectionInputContext) {
        let site = LoRASite(layer: context.layer, projection: context.site)
        for group in groups(context.slice) {
            for adapter in adapters[group.composition] where adapter.scalesInput(of: site) {
                adapter.scaleInput(
                    of: site, context.input + group.rows.lowerBound * context.inFeatures, rows: group.rows.count,
                    inFeatures: context.inFeatures)
            }
        }
    }

    public func attentionPrefix(layer: Int, item: Int) -> AttentionPrefix? {
        for adapter in adapters[itemComposition[item]] {
            if let prefix = adapter.attentionPrefix(layer: layer) { return prefix }
        }
        return nil
    }

    public func replacesSublayerOutput(layer: Int, location: SublayerLocation) -> Bool {
        let site = AdapterSite(layer: layer, location: location)
        return compositions.contains { $0.replaces(site) }
    }

    /// Every sublayer computation is row by row, so the slice's rows are split between the threads as the
    /// encoder splits its products (each part with its share of the scratch).
    public func sublayerOutput(_ context: SublayerHookContext) {
        let site = AdapterSite(layer: context.layer, location: context.location)
        let (h, rows) = (context.hiddenSize, context.slice.rows)
        let groups = groups(context.slice)
        let scratchPerRow = context.scratch.count / max(rows, 1)
        nonisolated(unsafe) let context = context
        Parallel.forEachChunk(of: rows, threads: context.threading.splitThreads) { part in
            for group in groups {
                let rows = group.rows.clamped(to: part)
                guard !rows.isEmpty else { continue }
                let offset = rows.lowerBound * h
                let scratch = UnsafeMutableBufferPointer(
                    start: context.scratch.baseAddress! + rows.lowerBound * scratchPerRow, count: rows.count * scratchPerRow)
                let block = SublayerBlock(
                    math: BottleneckMath(rows: rows.count, hidden: h, threading: .single),
                    projected: context.projected + offset, input: context.residual + offset, norm: context.norm,
                    output: context.output + offset, arena: ScratchArena(scratch))
                block.run(compositions[group.composition], at: site)
            }
        }
    }

    // MARK: - Batch items to row groups

    struct Group {
        let composition: Int
        /// Rows within the slice's buffers.
        let rows: Range<Int>
    }

    /// Consecutive items of the slice that share a composition, as row ranges (none for items without rows).
    func groups(_ slice: BatchSlice) -> [Group] {
        var groups: [Group] = []
        var start = slice.items.lowerBound
        while start < slice.items.upperBound {
            var end = start + 1
            while end < slice.items.upperBound, itemComposition[end] == itemComposition[start] { end += 1 }
            let rows = slice.rows(ofItem: start).lowerBound..<slice.rows(ofItem: end - 1).upperBound
            if !rows.isEmpty { groups.append(Group(composition: itemComposition[start], rows: rows)) }
            start = end
        }
        return groups
    }
}

/// One sublayer computation over a block of rows: what a kind acting at sublayers receives.
public struct SublayerBlock {
    let math: BottleneckMath
    /// projected, input, output are (rows, hidden).
    let projected: UnsafeMutablePointer<Float>
    let input: UnsafePointer<Float>
    let norm: LayerNormWeights
    let output: UnsafeMutablePointer<Float>
    var arena: ScratchArena

    func standard() {
        Elementwise.accumulate(input, into: projected, count: math.count)
        norm.apply(projected, into: output, rows: math.rows)
    }

    func run(_ composition: Composition, at site: AdapterSite) {
        var block = self
        switch composition {
        case .adapter(let adapter):
            guard adapter.replaces(site) else { return standard() }
            adapter.sublayerOutput(at: site, &block)
        case .stack(let adapters):
            block.stack(adapters, at: site)
        case .average(let adapters, let weights):
            block.average(adapters, weights: weights, at: site)
        case .fuse(let fusion):
            guard let layer = fusion.layers[site] else { return standard() }
            block.fuse(fusion, layer, at: site)
        case .kinds(let stack):
            guard let part = stack.parts.first(where: { $0.replaces(site) }) else { return standard() }
            block.run(part, at: site)
        case .base:
            standard()
        }
    }

    /// Floats of the work buffer for a bottleneck of this size.
    func work(_ bottleneck: Int) -> Int { math.rows * max(math.hidden, bottleneck) }

    /// `Stack`: each adapter's pre_forward and forward on the previous one's output; the last one's post_forward.
    mutating func stack(_ adapters: [BottleneckAdapter], at site: AdapterSite) {
        let present = adapters.filter { $0.modules[site] != nil }
        guard let last = present.last else { return standard() }
        let x = arena.take(math.count), residual = arena.take(math.count), up = arena.take(math.count)
        let states = arena.take(math.count)
        let work = arena.take(work(present.map { $0.modules[site]!.bottleneckSize }.max()!))
        states.update(from: projected, count: math.count)
        for adapter in present {
            let module = adapter.modules[site]!
            math.preForward(adapter.config, h: states, input: input, norm: norm, x: x, residual: residual)
            math.upProjection(module, adapter.config, x: x, up: up, work: work)
            math.finish(module, adapter.config, up: up, residual: residual)
            states.update(from: up, count: math.count)
        }
        math.postForward(last.config, hidden: states, input: input, norm: norm, output: output)
    }

    /// `Average`: the first adapter's pre_forward, every adapter's forward, their weighted outputs
    /// averaged as the library does (Σ wᵢ·outᵢ / N with w normalised to sum 1), the last one's post_forward.
    mutating func average(_ adapters: [BottleneckAdapter], weights: [Float], at site: AdapterSite) {
        let present = zip(adapters, weights).filter { $0.0.modules[site] != nil }
        guard let first = present.first?.0, let last = present.last?.0 else { return standard() }
        let total = weights.reduce(0, +)
        let x = arena.take(math.count), residual = arena.take(math.count), up = arena.take(math.count)
        let mixed = arena.take(math.count)
        let work = arena.take(work(present.map { $0.0.modules[site]!.bottleneckSize }.max()!))
        math.preForward(first.config, h: projected, input: input, norm: norm, x: x, residual: residual)
        mixed.initialize(repeating: 0, count: math.count)
        for (adapter, weight) in present {
            let module = adapter.modules[site]!
            math.upProjection(module, adapter.config, x: x, up: up, work: work)
            math.finish(module, adapter.config, up: up, residual: residual)
            let factor = weight / total / Float(present.count)
            for index in 0..<math.count { mixed[index] += factor * up[index] }
        }
        math.postForward(last.config, hidden: mixed, input: input, norm: norm, output: output)
    }

    /// AdapterFusion. The last member's config drives pre_forward and post_forward; each member
    /// contributes only its scaled up-projection. Because the value projection is linear,
    /// Σᵢ pᵢ·V(uᵢ) = V(Σᵢ pᵢ·uᵢ), and the key scores qᵀ(K uᵢ + b) equal (Kᵀq)·uᵢ up to a constant the
    /// softmax ignores — so beyond the members' own adapters the cost does not grow with their number.
    mutating func fuse(_ fusion: Fusion, _ layer: FusionLayerWeights, at site: AdapterSite) {
        let members = fusion.members, n = members.count
        let (rows, h) = (math.rows, math.hidden)
        let last = members[n - 1].config
        let config = fusion.config
        let x = arena.take(math.count), residual = arena.take(math.count)
        let query = arena.take(math.count), keyQuery = arena.take(math.count), context = arena.take(math.count)
        let ups = arena.take(n * math.count)  // ups is (n, rows, hidden): member i's block at i·rows·hidden
        let scores = arena.take(rows * n)  // scores is (rows, n)
        let work = arena.take(work(members.map { $0.modules[site]!.bottleneckSize }.max()!))

        math.preForward(last, h: projected, input: input, norm: norm, x: x, residual: residual)
        for (index, member) in members.enumerated() {
            let up = ups + index * math.count
            math.upProjection(member.modules[site]!, member.config, x: x, up: up, work: work)
            if config.residualBefore { Elementwise.accumulate(residual, into: up, count: math.count) }
        }
        let queryInput = config.queryBeforeLayerNorm ? UnsafePointer(projected) : UnsafePointer(x)
        // keyQuery (rows, h) = Kᵀq: the key scores of member i are keyQuery·uᵢ (the key bias adds the same to each).
        if let scoring = layer.scoring {
            scoring.forward(queryInput, rows: rows, into: keyQuery)
        } else {
            if let projection = layer.query {
                projection.forward(queryInput, rows: rows, into: query)
            } else {
                query.update(from: queryInput, count: math.count)
            }
            if let key = layer.key {
                // keyQuery (rows, h) = query (rows, h) · Wk (h, h)
                Gemm.sgemm(.normal, .normal, m: rows, n: h, k: h, a: query, lda: h, b: key.weight.readPointer, ldb: h,
                           c: keyQuery, ldc: h, threading: math.threading)
            } else {
                keyQuery.update(from: query, count: math.count)
            }
        }
        for row in 0..<rows {
            for index in 0..<n {
                let u = ups + index * math.count + row * h
                scores[row * n + index] = Elementwise.dot(keyQuery + row * h, u, count: h) / config.temperature
            }
        }
        Softmax.forward(scores, into: scores, rows: rows, cols: n)
        context.initialize(repeating: 0, count: math.count)
        for row in 0..<rows {
            for index in 0..<n {
                Elementwise.accumulate(ups + index * math.count + row * h, scaledBy: scores[row * n + index], into: context + row * h, count: h)
            }
        }
        let fused = x  // x is no longer needed
        if let value = layer.valueLinear {
            value.forward(context, rows: rows, into: fused)
        } else {
            fused.update(from: context, count: math.count)
        }
        if !config.residualBefore { Elementwise.accumulate(residual, into: fused, count: math.count) }
        math.postForward(last, hidden: fused, input: input, norm: norm, output: output)
    }
}
