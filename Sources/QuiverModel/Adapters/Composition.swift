/// What runs on a batch item: nothing, one adapter, or a composition of adapters — the `adapters`
/// library's composition blocks (Fuse, Stack, Average) over bottleneck adapters, or LoRA.
public enum Composition: Sendable {
    /// The base model alone.
    case base
    case bottleneck(BottleneckAdapter)
    case lora(LoRAAdapter)
    /// AdapterFusion over its members.
    case fuse(Fusion)
    /// Adapters one after another at each site (`Stack`).
    case stack([BottleneckAdapter])
    /// A weighted mean of adapters' outputs at each site (`Average`); weights are normalised to sum 1.
    case average([BottleneckAdapter], weights: [Float])

    /// The first layer where this composition changes anything (the layers below can be shared).
    var firstLayer: Int? {
        switch self {
        case .base: nil
        case .bottleneck(let adapter): adapter.modules.keys.map(\.layer).min()
        case .lora(let adapter): adapter.modules.keys.map(\.layer).min()
        case .fuse(let fusion): fusion.layers.keys.map(\.layer).min()
        case .stack(let adapters), .average(let adapters, _): adapters.compactMap { $0.modules.keys.map(\.layer).min() }.min()
        }
    }

    func replaces(_ site: AdapterSite) -> Bool {
        switch self {
        case .base, .lora: false
        case .bottleneck(let adapter): adapter.modules[site] != nil
        case .fuse(let fusion): fusion.layers[site] != nil
        case .stack(let adapters), .average(let adapters, _): adapters.contains { $0.modules[site] != nil }
        }
    }

    /// Scratch floats per row for the sublayer work at any site.
    func scratchPerRow(hiddenSize h: Int) -> Int {
        switch self {
        case .base: 0
        case .lora(let adapter): adapter.largestRank
        case .bottleneck(let adapter): 5 * h + adapter.largestBottleneck
        case .stack(let adapters), .average(let adapters, _): 7 * h + (adapters.map(\.largestBottleneck).max() ?? 0)
        case .fuse(let fusion): (9 + fusion.members.count) * h + fusion.members.count + (fusion.members.map(\.largestBottleneck).max() ?? 0)
        }
    }
}
