import Foundation
import QuiverTensor

extension BertEncoder {
    /// The encoder as plain loops in Double, that the fast path is tested against: every query and every key of
    /// every item (masked keys get exactly `Softmax.maskedScore`, as in `transformers`), one thread, no workspace,
    /// no hooks. Slow: for tests on small models.
    public enum Reference {
        /// The last hidden states of `input`, (batch, sequenceLength, hidden), or the embeddings' output followed by
        /// `layers` only.
        public static func forward(_ encoder: BertEncoder, _ input: EncoderInput, layers: Range<Int>? = nil) -> [Float]
        {
            let config = encoder.config
            let weights = encoder.weights
            let (h, t) = (config.hiddenSize, input.sequenceLength)
            let rows = input.batch * t
            let epsilon = Double(weights.embeddings.norm.epsilon)

            // MARK: Embeddings
            var x = [Double](repeating: 0, count: rows * h)  // x is (rows, h)
            for row in 0..<rows {
                for c in 0..<h {
                    x[row * h + c] =
                        Double(weights.embeddings.words.pointer[Int(input.ids[row]) * h + c])
                        + Double(weights.embeddings.tokenTypes.pointer[Int(input.typeIds[row]) * h + c])
                        + Double(weights.embeddings.positions.pointer[(row % t) * h + c])
                }
            }
            x = layerNorm(x, weights.embeddings.norm, rows: rows, epsilon: epsilon)

            // MARK: Layers
            for index in layers ?? 0..<config.layerCount {
                let layer = weights.layers[index]
                let qkv = linear(x, layer.queryKeyValue, rows: rows)  // (rows, 3h)
                let context = attention(qkv, input: input, config: config)
                var attentionOutput = linear(context, layer.attentionOutput, rows: rows)
                for i in 0..<(rows * h) { attentionOutput[i] += x[i] }
                attentionOutput = layerNorm(attentionOutput, layer.attentionNorm, rows: rows, epsilon: epsilon)
                let intermediate = linear(attentionOutput, layer.intermediate, rows: rows).map {
                    activate($0, encoder.activation)
                }
                var output = linear(intermediate, layer.output, rows: rows)
                for i in 0..<(rows * h) { output[i] += attentionOutput[i] }
                x = layerNorm(output, layer.outputNorm, rows: rows, epsilon: epsilon)
            }
            return x.map(Float.init)
        }

        /// x (rows, in) · Wᵀ + b.
        static func linear(_ x: [Double], _ weights: LinearWeights, rows: Int) -> [Double] {
            let (n, k) = (weights.outFeatures, weights.inFeatures)
            var y = [Double](repeating: 0, count: rows * n)
            for r in 0..<rows {
                for j in 0..<n {
                    var sum = Double(weights.bias.pointer[j])
                    for p in 0..<k { sum += x[r * k + p] * Double(weights.weight.pointer[j * k + p]) }
                    y[r * n + j] = sum
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

        /// softmax(Q·Kᵀ/√d + mask)·V per (item, head); qkv is (rows, 3h), the result (rows, h).
        static func attention(_ qkv: [Double], input: EncoderInput, config: BertConfig) -> [Double] {
            let (h, t, d) = (config.hiddenSize, input.sequenceLength, config.headDimension)
            var context = [Double](repeating: 0, count: input.batch * t * h)
            for b in 0..<input.batch {
                for head in 0..<config.headCount {
                    for i in 0..<t {
                        let query = (b * t + i) * 3 * h + head * d
                        var scores = (0..<t).map { j -> Double in
                            guard input.attentionMask[b * t + j] != 0 else { return Double(Softmax.maskedScore) }
                            let key = (b * t + j) * 3 * h + h + head * d
                            var dot = 0.0
                            for c in 0..<d { dot += qkv[query + c] * qkv[key + c] }
                            return dot / Double(d).squareRoot()
                        }
                        let maximum = scores.max()!
                        scores = scores.map { Foundation.exp($0 - maximum) }
                        let total = scores.reduce(0, +)
                        for c in 0..<d {
                            var sum = 0.0
                            for j in 0..<t {
                                sum += scores[j] / total * qkv[(b * t + j) * 3 * h + 2 * h + head * d + c]
                            }
                            context[(b * t + i) * h + head * d + c] = sum
                        }
                    }
                }
            }
            return context
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
