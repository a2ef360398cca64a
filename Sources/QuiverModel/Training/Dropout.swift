
/// The dropout probabilities a training step applies, taken from the configurations as the `adapters` library
/// reads them (docs/training.md). All are 0 in evaluation.
public struct DropoutProbabilities: Sendable, Equatable {
    /// Base model: embeddings' output and each sublayer's dense output (`hidden_dropout_prob`).
    public var hidden: Float
    /// Base model: attention probabilities (`attention_probs_dropout_prob`).
    public var attention: Float
    /// Bottleneck adapters: `up·scaling` before the residual (the adapter config's `dropout`).
    public var adapter: Float
    /// LoRA: the input of `A` (`dropout` / `lora_dropout`).
    public var lora: Float
    /// Head: before each Linear (`dropout_prob`, else `classifier_dropout`, else `hidden_dropout_prob`).
    public var head: Float
    /// Fusion: the raw attention scores (`dropout_prob`, else `attention_probs_dropout_prob`).
    public var fusion: Float

    public init(hidden: Float, attention: Float, adapter: Float, lora: Float, head: Float, fusion: Float) {
        self.hidden = hidden
        self.attention = attention
        self.adapter = adapter
        self.lora = lora
        self.head = head
        self.fusion = fusion
    }

    /// No dropout anywhere.
    public static let none = DropoutProbabilities(hidden: 0, attention: 0, adapter: 0, lora: 0, head: 0, fusion: 0)
}

/// Where in the network a dropout mask applies: each place draws its own, independent mask.
enum DropoutSite {
    case embeddings
    case attentionProbabilities(layer: Int)
    case sublayer(layer: Int, SublayerLocation)
    case adapter(layer: Int, SublayerLocation)
    case lora(layer: Int, ProjectionSite)
    case fusionScores(layer: Int, SublayerLocation)
    case head(layer: Int)

    var key: UInt64 {
        func location(_ value: SublayerLocation) -> UInt64 { value == .attentionOutput ? 0 : 1 }
        switch self {
        case .embeddings: return 1
        case .attentionProbabilities(let layer): return 2 | UInt64(layer) << 8
        case .sublayer(let layer, let at): return 3 | UInt64(layer) << 8 | location(at) << 40
        case .adapter(let layer, let at): return 4 | UInt64(layer) << 8 | location(at) << 40
        case .lora(let layer, let projection):
            let index = UInt64(ProjectionSite.allCases.firstIndex(of: projection)!)
            return 5 | UInt64(layer) << 8 | index << 40
        case .fusionScores(let layer, let at): return 6 | UInt64(layer) << 8 | location(at) << 40
        case .head(let layer): return 7 | UInt64(layer) << 8
        }
    }
}

/// Inverted dropout whose mask is a pure function of (step seed, site, element index): element `e` is kept iff
/// `hash(seed, site, e) ≥ p·2³²`, and kept values are scaled by `1/(1 − p)`.
///
/// Nothing is stored: backward recomputes the same mask. The element index is the element's position in the
/// whole batch, so the masks do not depend on how the batch is cut into slices or on which thread runs a slice.
struct DropoutMask {
    let probability: Float
    let scale: Float
    private let key: UInt64
    private let threshold: UInt32

    /// A mask for `site` in the step seeded by `seed`; nil when `probability` is 0 (dropout is the identity).
    init?(seed: UInt64, site: DropoutSite, probability: Float) {
        guard probability > 0 else { return nil }
        precondition(probability < 1, "dropout probability \(probability) must be < 1")
        self.probability = probability
        scale = 1 / (1 - probability)
        key = Self.mix(seed ^ Self.mix(site.key &+ 0x632B_E59B_D9B4_E019))
        threshold = UInt32(min(Double(probability) * 4_294_967_296, 4_294_967_295))
    }

    /// SplitMix64's finaliser.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    func keeps(_ index: Int) -> Bool {
        UInt32(truncatingIfNeeded: Self.mix(key &+ UInt64(bitPattern: Int64(index)) &* 0x9E37_79B9_7F4A_7C15) >> 32)
            >= threshold
    }

    /// `x[i] = keeps(first + i) ? x[i]·scale : 0` for `count` floats: the forward pass on activations, and the
    /// backward pass on their gradients.
    func apply(_ x: UnsafeMutablePointer<Float>, count: Int, firstIndex first: Int) {
        for i in 0..<count { x[i] = keeps(first + i) ? x[i] * scale : 0 }
    }

    /// `apply` on `rows` rows of `cols` floats, rows `stride` apart in memory, whose element (r, c) has index
    /// `first + r·indexStride + c`.
    func apply(
        _ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, stride: Int, firstIndex first: Int, indexStride: Int
    ) {
        for r in 0..<rows { apply(x + r * stride, count: cols, firstIndex: first + r * indexStride) }
    }
}

/// The dropout of one training step: its seed and probabilities.
struct StepDropout {
    let seed: UInt64
    let probabilities: DropoutProbabilities

    func mask(_ site: DropoutSite, _ probability: KeyPath<DropoutProbabilities, Float>) -> DropoutMask? {
        DropoutMask(seed: seed, site: site, probability: probabilities[keyPath: probability])
    }
}

extension Optional where Wrapped == StepDropout {
    func mask(_ site: DropoutSite, _ probability: KeyPath<DropoutProbabilities, Float>) -> DropoutMask? {
        self?.mask(site, probability)
    }
}
