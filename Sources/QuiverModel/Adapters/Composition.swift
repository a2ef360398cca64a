/// What runs on a batch item: nothing, one adapter, or a composition of adapters — the `adapters`
/// library's composition blocks (Fuse, Stack, Average) over bottleneck adapters, LoRA, IA³, prefix tuning, or
/// adapters of different kinds stacked.
public enum Composition: Sendable {
    /// The base model alone.
    case base
    case bottleneck(BottleneckAdapter)
    case lora(LoRAAdapter)
    /// IA³ vectors on the projections.
    case ia3(IA3Adapter)
    /// Prefix keys and values in every layer's self-attention.
    case prefixTuning(PrefixTuningAdapter)
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

    /// The first layer where this composition changes anything (the layers below can be shared).
    var firstLayer: Int? {
        switch self {
        case .base: nil
        case .bottleneck(let adapter): adapter.modules.keys.map(\.layer).min()
        case .lora(let adapter): adapter.modules.keys.map(\.layer).min()
        case .ia3(let adapter): adapter.vectors.keys.map(\.layer).min()
        case .prefixTuning(let adapter): adapter.firstLayer
        case .fuse(let fusion): fusion.layers.keys.map(\.layer).min()
        case .stack(let adapters), .average(let adapters, _):
            adapters.compactMap { $0.modules.keys.map(\.layer).min() }.min()
        case .kinds(let stack): stack.parts.compactMap(\.firstLayer).min()
        }
    }

    func replaces(_ site: AdapterSite) -> Bool {
        switch self {
        case .base, .lora, .ia3, .prefixTuning: false
        case .bottleneck(let adapter): adapter.modules[site] != nil
        case .fuse(let fusion): fusion.layers[site] != nil
        case .stack(let adapters), .average(let adapters, _): adapters.contains { $0.modules[site] != nil }
        case .kinds(let stack): stack.parts.contains { $0.replaces(site) }
        }
    }

    /// Whether this composition changes projection `site` of `layer` (its output or its input).
    func adapts(_ site: LoRASite) -> Bool {
        switch self {
        case .lora(let adapter): adapter.modules[site] != nil
        case .ia3(let adapter): adapter.vectors[site] != nil
        case .kinds(let stack): stack.parts.contains { $0.adapts(site) }
        default: false
        }
    }

    /// Bottleneck adapters, their compositions and fusions: what replaces `LayerNorm(projected + residual)`.
    var actsAtSublayers: Bool {
        switch self {
        case .bottleneck, .stack, .average, .fuse: true
        case .kinds(let stack): stack.parts.contains(where: \.actsAtSublayers)
        case .base, .lora, .ia3, .prefixTuning: false
        }
    }

    /// LoRA and IA³: what changes the projections.
    var actsOnProjections: Bool {
        switch self {
        case .lora, .ia3: true
        case .kinds(let stack): stack.parts.contains(where: \.actsOnProjections)
        case .base, .bottleneck, .stack, .average, .fuse, .prefixTuning: false
        }
    }

    /// The prefix positions of the composition's longest prefix (0 for none).
    var attentionPrefixLength: Int {
        switch self {
        case .prefixTuning(let adapter): adapter.length
        case .kinds(let stack): stack.parts.map(\.attentionPrefixLength).max() ?? 0
        default: 0
        }
    }

    /// Scratch floats per row for the sublayer work at any site.
    func scratchPerRow(hiddenSize h: Int) -> Int {
        switch self {
        case .base, .ia3, .prefixTuning: 0
        case .lora(let adapter): adapter.largestRank
        case .bottleneck(let adapter): 5 * h + adapter.largestBottleneck
        case .stack(let adapters), .average(let adapters, _): 7 * h + (adapters.map(\.largestBottleneck).max() ?? 0)
        case .fuse(let fusion):
            (9 + fusion.members.count) * h + fusion.members.count + (fusion.members.map(\.largestBottleneck).max() ?? 0)
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
            $0.actsAtSublayers || $0.actsOnProjections || $0.attentionPrefixLength > 0
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
        let projectionParts = flat.filter(\.actsOnProjections)
        for (index, part) in projectionParts.enumerated() {
            for other in projectionParts[(index + 1)...] {
                let shared: LoRASite? =
                    switch part {
                    case .lora(let adapter): adapter.modules.keys.first { other.adapts($0) }
                    case .ia3(let adapter): adapter.vectors.keys.first { other.adapts($0) }
                    default: nil
                    }
                if let shared {
                    throw QuiverError(
                        .unsupported,
                        "two adapters of a stack of kinds act on \(shared.projection.rawValue) of layer \(shared.layer); this build does not chain them"
                    )
                }
            }
        }
        self.parts = flat
    }
}
