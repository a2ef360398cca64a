import QuiverTensor

/// One loaded adapter of a kind the engine runs: the places of the encoder where it acts and what it does there, fast
/// and in a Double reference. `Composition.adapter` holds any of them, so the compositions, the encoder hooks and the
/// reference pass never name a kind: a new kind plugs in by conforming. Every requirement defaults to "nothing here",
/// so a kind implements only the places it acts at.
public protocol EncoderAdapter: Sendable {
    /// The first layer it changes (the layers below are run once for a mixed batch); nil when it changes none.
    var firstLayer: Int? { get }
    /// Scratch floats per row its hooks need at any place.
    func scratchPerRow(hiddenSize: Int) -> Int

    // MARK: Projections (LoRA, IA³)

    /// The projections whose input or output it changes (a stack of kinds refuses two adapters on one).
    var projectionSites: [LoRASite] { get }
    /// Whether it changes the input rows of projection `site` before the product.
    func scalesInput(of site: LoRASite) -> Bool
    /// input (rows, inFeatures) is changed in place; called only where `scalesInput(of:)` is true.
    func scaleInput(of site: LoRASite, _ input: UnsafeMutablePointer<Float>, rows: Int, inFeatures: Int)
    /// Changes `rows` of the projection's output (a delta added, a scale applied).
    func changeOutput(of site: LoRASite, _ context: ProjectionHookContext, rows: Range<Int>)
    /// The slow twins of the two above, in Double: x (rows, in) and y (rows, out) row-major.
    func referenceInput(of site: LoRASite, _ x: inout [Double])
    func referenceOutput(of site: LoRASite, input x: [Double], _ y: inout [Double])

    // MARK: Attention (prefix tuning)

    /// The positions of its longest attention prefix (0 for none).
    var attentionPrefixLength: Int { get }
    func attentionPrefix(layer: Int) -> AttentionPrefix?

    // MARK: Sublayers (bottleneck adapters)

    /// Whether it replaces `LayerNorm(projected + residual)` anywhere.
    var actsAtSublayers: Bool { get }
    func replaces(_ site: AdapterSite) -> Bool
    /// Computes the sublayer's output at `site`, where `replaces` is true.
    func sublayerOutput(at site: AdapterSite, _ block: inout SublayerBlock)
    /// The slow twin of `sublayerOutput`, in Double; nil when the kind has none.
    func referenceSublayerOutput(at site: AdapterSite, projected: [Double], residual: [Double], norm: LayerNormWeights) -> [Double]?
}

extension EncoderAdapter {
    public func scratchPerRow(hiddenSize: Int) -> Int { 0 }
    public var projectionSites: [LoRASite] { [] }
    public func scalesInput(of site: LoRASite) -> Bool { false }
    public func scaleInput(of site: LoRASite, _ input: UnsafeMutablePointer<Float>, rows: Int, inFeatures: Int) {}
    public func changeOutput(of site: LoRASite, _ context: ProjectionHookContext, rows: Range<Int>) {}
    public func referenceInput(of site: LoRASite, _ x: inout [Double]) {}
    public func referenceOutput(of site: LoRASite, input x: [Double], _ y: inout [Double]) {}
    public var attentionPrefixLength: Int { 0 }
    public func attentionPrefix(layer: Int) -> AttentionPrefix? { nil }
    public var actsAtSublayers: Bool { false }
    public func replaces(_ site: AdapterSite) -> Bool { false }
    public func sublayerOutput(at site: AdapterSite, _ block: inout SublayerBlock) { block.standard() }
    public func referenceSublayerOutput(
        at site: AdapterSite, projected: [Double], residual: [Double], norm: LayerNormWeights
    ) -> [Double]? { nil }
}

/// The typed configuration of a kind the engine runs, as `AdapterFolder` parses it: it loads the kind's weights for
/// a base, checking every shape before a value is read.
public protocol EncoderAdapterConfig: Sendable {
    /// - Throws: `QuiverError(.invalidInput)` for weights that do not fit, `.unsupported` for what this build does
    ///   not run.
    func adapter(weights: SafetensorsFile, base: BertConfig) throws -> any EncoderAdapter
}
