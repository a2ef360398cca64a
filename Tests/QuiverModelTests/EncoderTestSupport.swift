import Foundation
import QuiverStore
import QuiverTensor

@testable import QuiverModel

/// Small encoders with random weights, for tests that compare two paths rather than against `transformers`.
enum RandomEncoder {
    struct Shape {
        var hidden = 32
        var layers = 2
        var heads = 4
        var intermediate = 64
        var vocab = 50
        var maxPositions = 64
        var activation = "gelu"
        var epsilon = 1e-12
    }

    static func config(_ shape: Shape) throws -> BertConfig {
        let json = """
            {"model_type": "bert", "vocab_size": \(shape.vocab), "hidden_size": \(shape.hidden),
             "num_hidden_layers": \(shape.layers), "num_attention_heads": \(shape.heads),
             "intermediate_size": \(shape.intermediate), "max_position_embeddings": \(shape.maxPositions),
             "type_vocab_size": 2, "hidden_act": "\(shape.activation)", "layer_norm_eps": \(shape.epsilon)}
            """
        return try BertConfig(json: JSONParser.parse(json), source: "test config")
    }

    /// Weights drawn from N(0, 0.3²) (LayerNorm gammas around 1), the same for the same seed.
    static func weights(_ config: BertConfig, seed: UInt64) -> BertEncoderWeights {
        var random = SeededGenerator(seed: seed)
        let (h, i) = (config.hiddenSize, config.intermediateSize)
        let epsilon = Float(config.layerNormEps)
        func buffer(_ count: Int, mean: Float = 0) -> FloatBuffer {
            FloatBuffer(random.normal(count: count, standardDeviation: 0.3, mean: mean))
        }
        func linear(_ inFeatures: Int, _ outFeatures: Int) -> LinearWeights {
            LinearWeights(
                weight: buffer(inFeatures * outFeatures), bias: buffer(outFeatures), inFeatures: inFeatures,
                outFeatures: outFeatures)
        }
        func norm() -> LayerNormWeights {
            LayerNormWeights(gamma: buffer(h, mean: 1), beta: buffer(h), epsilon: epsilon)
        }
        let embeddings = EmbeddingWeights(
            words: buffer(config.vocabSize * h), positions: buffer(config.maxPositions * h),
            tokenTypes: buffer(config.typeVocabSize * h), norm: norm())
        let layers = (0..<config.layerCount).map { _ in
            EncoderLayerWeights(
                queryKeyValue: linear(h, 3 * h), attentionOutput: linear(h, h), attentionNorm: norm(),
                intermediate: linear(h, i), output: linear(i, h), outputNorm: norm())
        }
        return BertEncoderWeights(embeddings: embeddings, layers: layers, pooler: linear(h, h))
    }

    static func encoder(
        _ shape: Shape = Shape(), seed: UInt64 = 7, kernels: ElementwiseKernels = .oneDNN
    ) throws -> BertEncoder {
        let config = try config(shape)
        return try BertEncoder(config: config, weights: weights(config, seed: seed), elementwiseKernels: kernels)
    }

    /// A right-padded batch: item `b` has `lengths[b]` tokens (ids from 1, the first type 0 and the second half
    /// type 1), then padding with id 0.
    static func input(lengths: [Int], vocab: Int, seed: UInt64 = 3) throws -> EncoderInput {
        var random = SeededGenerator(seed: seed)
        let t = lengths.max() ?? 0
        var ids = [Int32](repeating: 0, count: lengths.count * t)
        var types = ids
        var mask = ids
        for (item, length) in lengths.enumerated() {
            for position in 0..<length {
                ids[item * t + position] = Int32(1 + random.next() % UInt64(vocab - 1))
                types[item * t + position] = position >= (length + 1) / 2 ? 1 : 0
                mask[item * t + position] = 1
            }
        }
        return try EncoderInput(batch: lengths.count, sequenceLength: t, ids: ids, typeIds: types, attentionMask: mask)
    }
}

extension LinearWeights {
    /// A copy with `delta` (outFeatures', inFeatures) added to the rows `rows` of the weight.
    func adding(_ delta: [Float], toRows rows: Range<Int>) -> LinearWeights {
        let weight = FloatBuffer(count: self.weight.count)
        weight.pointer.update(from: self.weight.pointer, count: self.weight.count)
        for (index, value) in delta.enumerated() { weight.pointer[rows.lowerBound * inFeatures + index] += value }
        return LinearWeights(weight: weight, bias: bias, inFeatures: inFeatures, outFeatures: outFeatures)
    }

    /// A copy with weight and bias multiplied by `factor`.
    func scaled(by factor: Float) -> LinearWeights {
        LinearWeights(
            weight: FloatBuffer(self.weight.array.map { $0 * factor }),
            bias: FloatBuffer(bias.array.map { $0 * factor }),
            inFeatures: inFeatures, outFeatures: outFeatures)
    }
}

extension EncoderLayerWeights {
    /// A copy with some of the Linear layers replaced.
    func replacing(
        queryKeyValue: LinearWeights? = nil, attentionOutput: LinearWeights? = nil,
        intermediate: LinearWeights? = nil, output: LinearWeights? = nil
    ) -> EncoderLayerWeights {
        EncoderLayerWeights(
            queryKeyValue: queryKeyValue ?? self.queryKeyValue,
            attentionOutput: attentionOutput ?? self.attentionOutput,
            attentionNorm: attentionNorm, intermediate: intermediate ?? self.intermediate,
            output: output ?? self.output,
            outputNorm: outputNorm)
    }
}

// MARK: - Packed twins of padded batches

extension EncoderInput {
    /// The same items without their right padding, packed one after the other.
    var unpadded: EncoderInput { withoutPadding() }

    /// The rows of `values` — (rows, width), laid out like this padded input — that its `unpadded` twin keeps.
    func tokenRows(_ values: [Float], width: Int) -> [Float] {
        let packed = unpadded.layout
        return (0..<batch).flatMap { item in
            let start = layout.starts[item] * width
            return values[start..<(start + packed.length(of: item) * width)]
        }
    }
}
