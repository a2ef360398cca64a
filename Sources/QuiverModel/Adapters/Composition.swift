/// What runs on a batch item: nothing, one adapter, or a composition of adapters — the `adapters`
/// library's composition blocks (Fuse, Stack, Average) over bottleneck adapters, LoRA, IA³, prefix tuning, or
/// adapters of different kinds stacked.
public enum Composition: Sendable {
    /// The base model alone.
    case base
    /// One adapter of a kind the engine runs (bottleneck, LoRA, IA³, prefix tuning…).
    case adapter(any EncoderAdapter)
    /// AdapterFusion over its members.
    case fuse(Fusion)
    /// Adapters one after another at each site (`Stack`).
    case stack([BottleneckAdapter])
    /// A weighted mean of adapters' outputs at each site (`Average`); weights are normalised to sum 1.
    case average([BottleneckAdapter], weights: [Float])
    /// `Stack` over adapters of different kinds, each acting at its own places (`Stack("ia3", "bn")`).
    case kinds(KindStack)

    /// The parts that act at separate places: the members of a `KindStack`, else the composition itself.
    var parts: [Composition] {
        if case .kinds(let stack) = self { return stack.parts }
        return [self]
    }

    /// The adapters that act at the projections or in the attention: those of `parts` held by `.adapter`.
    var adapters: [any EncoderAdapter] {
        parts.compactMap { if case .adapter(let adapter) = $0 { adapter } else { nil } }
    }

    /// The first layer where this composition changes anything (the layers below can be shared).
    var firstLayer: Int? {
        switch self {
        case .base: nil
        case .adapter(let adapter): adapter.firstLayer
        case .fuse(let fusion): fusion.layers.keys.map(\.layer).min()
        case .stack(let adapters), .average(let adapters, _): adapters.compactMap(\.firstLayer).min()
        case .kinds(let stack): stack.parts.compactMap(\.firstLayer).min()
        }
    }

    /// Where this composition first changes anything: copies of a batch that differ only from there share the work
    /// before it (`MultiTaskRunner`). Its output sublayer when that is all it changes in its first layer.
    var branchPoint: BranchPoint? {
        guard let layer = firstLayer else { return nil }
        let changesEarlier =
            replaces(AdapterSite(layer: layer, location: .attentionOutput))
            || adapters.contains { adapter in
                adapter.projectionSites.contains { $0.layer == layer } || adapter.attentionPrefix(layer: layer) != nil
            }
        return BranchPoint(layer: layer, stage: changesEarlier ? .layerStart : .outputSublayer)
    }

    func replaces(_ site: AdapterSite) -> Bool {
        switch self {
        case .base: false
        case .adapter(let adapter): adapter.replaces(site)
        case .fuse(let fusion): fusion.layers[site] != nil
        case .stack(let adapters), .average(let adapters, _): adapters.contains { $0.replaces(site) }
        case .kinds(let stack): stack.parts.contains { $0.replaces(site) }
        }
    }

    /// Bottleneck adapters, their compositions and fusions: what replaces `LayerNorm(projected + residual)`.
    var actsAtSublayers: Bool {
        switch self {
        case .base: false
        case .adapter(let adapter): adapter.actsAtSublayers
        case .stack, .average, .fuse: true
        case .kinds(let stack): stack.parts.contains(where: \.actsAtSublayers)
        }
    }

    /// The prefix positions of the composition's longest prefix (0 for none).
    var attentionPrefixLength: Int { adapters.map(\.attentionPrefixLength).max() ?? 0 }

    /// Scratch floats per row for the work at any site.
    func scratchPerRow(hiddenSize h: Int) -> Int {
        switch self {
        case .base: 0
        case .adapter(let adapter): adapter.scratchPerRow(hiddenSize: h)
        case .stack(let adapters), .average(let adapters, _): 7 * h + (adapters.map(\.largestBottleneck).max() ?? 0)
        case .fuse(let fusion):
            (8 + fusion.members.count) * h + fusion.members.count + (fusion.members.map(\.largestBottleneck).max() ?? 0)
        case .kinds(let stack): stack.parts.map { $0.scratchPerRow(hiddenSize: h) }.max() ?? 0
        }
    }
}

/// The `adapters` library's `Stack` over adapters of different kinds: each layer type composes only its own kind, so
/// LoRA or IA³ on the projections, prefix tuning in the attention and bottleneck adapters (or a fusion) at the
/// sublayers all apply at once, each at its place (docs/fixtures-kinds.md, "`Stack(\"ia3\", \"bn\")`").
///
/// Two parts may not act at the same place: the library would chain them there (two LoRAs on one projection, two
/// prefixes in one attention), which this build does not run.
public struct KindStack: Sendable {
    public let parts: [Composition]

    /// - Throws: `QuiverError(.unsupported)` when two parts act at the same place.
    public init(_ parts: [Composition]) throws {
        let flat = parts.flatMap(\.parts).filter {
            if case .base = $0 { false } else { true }
        }
        if flat.filter(\.actsAtSublayers).count > 1 {
            throw QuiverError(
                .unsupported,
                "a stack of kinds holds at most one bottleneck adapter, Stack, Average or fusion (stack bottleneck adapters with `.stack`)"
            )
        }
        if flat.filter({ $0.attentionPrefixLength > 0 }).count > 1 {
            throw QuiverError(.unsupported, "a stack of kinds holds at most one prefix tuning adapter")
        }
        var adapted: Set<LoRASite> = []
        for adapter in flat.flatMap(\.adapters) {
            let sites = Set(adapter.projectionSites)
            if let shared = sites.intersection(adapted).min(by: { ($0.layer, $0.projection.rawValue) < ($1.layer, $1.projection.rawValue) }) {
                throw QuiverError(
                    .unsupported,
                    "two adapters of a stack of kinds act on \(shared.projection.rawValue) of layer \(shared.layer); this build does not chain them"
                )
            }
            adapted.formUnion(sites)
        }
        self.parts = flat
    }
}
