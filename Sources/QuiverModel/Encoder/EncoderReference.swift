import Foundation
import QuiverTensor

extension BertEncoder {
    /// The encoder as plain loops in Double, that the fast path is tested against: every query and every key of
    /// every item (masked keys get exactly `Softmax.maskedScore`, as in `transformers`), one thread, one item at a
    /// time, no workspace; adapters plug in through `ReferenceHooks`, their slow twins. Slow: for tests on small
    /// models.
    public enum Reference {
        /// The last hidden states of `input`, (rows, hidden) laid out like the input, or the embeddings' output
        /// followed by `layers` only.
        public static func forward(_ encoder: BertEncoder, _ input: EncoderInput, layers: Range<Int>? = nil) -> [Float]
        {
            forward(encoder, input, layers: layers, hooks: NoEncoderHooks())
        }

        /// `forward` with `hooks` — the adapters' own slow twins — plugged into every layer, one item at a time.
        public static func forward<Hooks: ReferenceHooks>(
            _ encoder: BertEncoder, _ input: EncoderInput, layers: Range<Int>? = nil, hooks: Hooks
        ) -> [Float] {
            let config = encoder.config
            let weights = encoder.weights
            let h = config.hiddenSize
            let layout = input.layout
            let rows = layout.rows
            let epsilon = Double(weights.embeddings.norm.epsilon)

            // MARK: Embeddings
            var x = [Double](repeating: 0, count: rows * h)  // x is (rows, h)
            for item in 0..<input.batch {
                for (position, row) in layout.rows(of: item).enumerated() {
                    for c in 0..<h {
                        x[row * h + c] =
                            Double(weights.embeddings.words.pointer[Int(input.ids[row]) * h + c])
                            + Double(weights.embeddings.tokenTypes.pointer[Int(input.typeIds[row]) * h + c])
                            + Double(weights.embeddings.positions.pointer[position * h + c])
                    }
                }
            }
            x = layerNorm(x, weights.embeddings.norm, rows: rows, epsilon: epsilon)

            // MARK: Layers, item by item
            for index in layers ?? 0..<config.layerCount {
                let layer = weights.layers[index]
                for item in 0..<input.batch where layout.length(of: item) > 0 {
                    let t = layout.length(of: item)
                    let itemRows = (layout.starts[item] * h)..<(layout.starts[item + 1] * h)
                    let xi = Array(x[itemRows])  // xi is (t, h)
                    /// One projection: its input through the hooks, the product, its output through the hooks.
                    func project(_ site: ProjectionSite, _ input: [Double], _ linear: LinearWeights, block: Int = 0) -> [Double] {
                        var input = input
                        hooks.projectionInput(layer: index, site: site, item: item, &input)
                        let width = site == .query || site == .key || site == .value ? h : linear.outFeatures
                        var output = Reference.linear(input, linear, rows: t, outputs: (block * width)..<((block + 1) * width))
                        hooks.projectionOutput(layer: index, site: site, item: item, input: input, &output)
                        return output
                    }
                    /// output = LayerNorm(projected + residual), or what the hooks compute instead.
                    func sublayer(_ location: SublayerLocation, _ projected: [Double], _ residual: [Double], _ norm: LayerNormWeights) -> [Double] {
                        if let output = hooks.sublayerOutput(
                            layer: index, location: location, item: item, projected: projected, residual: residual, norm: norm)
                        {
                            return output
                        }
                        return layerNorm(zip(projected, residual).map(+), norm, rows: t, epsilon: Double(norm.epsilon))
                    }
                    let query = project(.query, xi, layer.queryKeyValue, block: 0)
                    let key = project(.key, xi, layer.queryKeyValue, block: 1)
                    let value = project(.value, xi, layer.queryKeyValue, block: 2)
                    let context = attention(
                        query: query, key: key, value: value, prefix: hooks.attentionPrefix(layer: index, item: item),
                        mask: Array(input.attentionMask[layout.rows(of: item)]), config: config)
                    let attentionOutput = sublayer(
                        .attentionOutput, project(.attentionOutput, context, layer.attentionOutput), xi, layer.attentionNorm)
                    let intermediate = project(.intermediate, attentionOutput, layer.intermediate).map { activate($0, encoder.activation) }
                    x.replaceSubrange(
                        itemRows, with: sublayer(.output, project(.output, intermediate, layer.output), attentionOutput, layer.outputNorm))
                }
            }
            return x.map(Float.init)
        }

        /// x (rows, in) · Wᵀ + b, over the outputs `outputs` of the layer (all by default): (rows, outputs.count).
        static func linear(_ x: [Double], _ weights: LinearWeights, rows: Int, outputs: Range<Int>? = nil) -> [Double] {
            let k = weights.inFeatures
            let outputs = outputs ?? 0..<weights.outFeatures
            let n = outputs.count
            var y = [Double](repeating: 0, count: rows * n)
            for r in 0..<rows {
                for (column, j) in outputs.enumerated() {
                    var sum = Double(weights.bias.pointer[j])
                    for p in 0..<k { sum += x[r * k + p] * Double(weights.weight.pointer[j * k + p]) }
                    y[r * n + column] = sum
                }
            }
            return y
        }

        static func layerNorm(_ x: [Double], _ norm: LayerNormWeights, rows: Int, epsilon: Double) -> [Double] {
            let n = norm.size
            var y = x
            for r in 0..<rows {
                let row = x[(r * n)..<((r + 1) * n)]
                let mean = row.reduce(0, +) / Double(n)
                let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
                let scale = 1 / (variance + epsilon).squareRoot()
                for c in 0..<n {
                    y[r * n + c] =
                        (x[r * n + c] - mean) * scale * Double(norm.gamma.pointer[c])
                        + Double(norm.beta.pointer[c])
                }
            }
            return y
        }

        /// softmax(Q·Kᵀ/√d + mask)·V per head of one item: query, key, value and the result are (t, h); a prefix's
        /// keys and values (P, h) come first, their mask 0 for every query.
        static func attention(
            query: [Double], key: [Double], value: [Double], prefix: (keys: [Double], values: [Double])?, mask: [Int32],
            config: BertConfig
        ) -> [Double] {
            let (h, d, t) = (config.hiddenSize, config.headDimension, mask.count)
            let keys = (prefix?.keys ?? []) + key, values = (prefix?.values ?? []) + value  // (P + t, h)
            let p = (prefix?.keys.count ?? 0) / h
            var context = [Double](repeating: 0, count: t * h)
            for head in 0..<config.headCount {
                for i in 0..<t {
                    var scores = (0..<(p + t)).map { j -> Double in
                        guard j < p || mask[j - p] != 0 else { return Double(Softmax.maskedScore) }
                        var dot = 0.0
                        for c in 0..<d { dot += query[i * h + head * d + c] * keys[j * h + head * d + c] }
                        return dot / Double(d).squareRoot()
                    }
                    let maximum = scores.max()!
                    scores = scores.map { Foundation.exp($0 - maximum) }
                    let total = scores.reduce(0, +)
                    for c in 0..<d {
                        var sum = 0.0
                        for j in 0..<(p + t) { sum += scores[j] / total * values[j * h + head * d + c] }
                        context[i * h + head * d + c] = sum
                    }
                }
            }
            return context
        }

        static func activate(_ x: Double, _ function: Nonlinearity) -> Double {
            switch function {
            case .relu: max(0, x)
            case .gelu: 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))
            case .silu: x / (1 + Foundation.exp(-x))
            case .tanh: Foundation.tanh(x)
            case .sigmoid: 1 / (1 + Foundation.exp(-x))
            }
        }

        static func activate(_ x: Double, _ activation: HiddenActivation) -> Double {
            switch activation {
            case .gelu:
                return 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))
            case .geluTanh:
                let inner: Double = (2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)
                return 0.5 * x * (1 + Foundation.tanh(inner))
            case .relu:
                return max(0, x)
            case .silu:
                return x / (1 + Foundation.exp(-x))
            }
        }
    }
}

/// The slow twin of `EncoderHooks`, for `BertEncoder.Reference`: what adapters do to one batch item, in Double.
///
/// Every requirement has a default that changes nothing.
public protocol ReferenceHooks {
    /// Changes x (t, in), the input of projection `site` of `layer` for batch item `item`, before its product.
    func projectionInput(layer: Int, site: ProjectionSite, item: Int, _ x: inout [Double])

    /// Changes y (t, out) = x · Wᵀ + b, the output of projection `site`, given its input x (t, in).
    func projectionOutput(layer: Int, site: ProjectionSite, item: Int, input x: [Double], _ y: inout [Double])

    /// The keys and values, (P, hidden) each, in front of `item`'s own in `layer`'s self-attention; nil for none.
    func attentionPrefix(layer: Int, item: Int) -> (keys: [Double], values: [Double])?

    /// The sublayer's output (t, hidden) in place of `LayerNorm(projected + residual)`, or nil for that.
    func sublayerOutput(
        layer: Int, location: SublayerLocation, item: Int, projected: [Double], residual: [Double], norm: LayerNormWeights
    ) -> [Double]?
}

extension ReferenceHooks {
    public func projectionInput(layer: Int, site: ProjectionSite, item: Int, _ x: inout [Double]) {}
    public func projectionOutput(layer: Int, site: ProjectionSite, item: Int, input x: [Double], _ y: inout [Double]) {}
    public func attentionPrefix(layer: Int, item: Int) -> (keys: [Double], values: [Double])? { nil }
    public func sublayerOutput(
        layer: Int, location: SublayerLocation, item: Int, projected: [Double], residual: [Double], norm: LayerNormWeights
    ) -> [Double]? { nil }
}

extension NoEncoderHooks: ReferenceHooks {}
