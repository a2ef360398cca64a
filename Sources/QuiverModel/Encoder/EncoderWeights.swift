import QuiverTensor

// MARK: - Building blocks

/// A Linear layer's parameters in PyTorch's layout: `y = x · weightᵀ + bias`.
public struct LinearWeights: Sendable {
    /// weight is (outFeatures, inFeatures), as `nn.Linear` stores it.
    public let weight: FloatBuffer
    /// bias is (outFeatures).
    public let bias: FloatBuffer
    public let inFeatures: Int
    public let outFeatures: Int
    /// The weight packed for the encoder's products (`PackedLinear`), made on first use.
    let packedCopy = PackedLinearSlot()

    public init(weight: FloatBuffer, bias: FloatBuffer, inFeatures: Int, outFeatures: Int) {
        precondition(weight.count == inFeatures * outFeatures && bias.count == outFeatures, "LinearWeights: sizes")
        self.weight = weight
        self.bias = bias
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }
}

/// A LayerNorm's parameters and epsilon: `y = (x − mean) / √(var + epsilon) · gamma + beta`.
public struct LayerNormWeights: Sendable {
    /// gamma is (size).
    public let gamma: FloatBuffer
    /// beta is (size).
    public let beta: FloatBuffer
    /// `layer_norm_eps` from the model's config.json.
    public let epsilon: Float

    public var size: Int { gamma.count }

    public init(gamma: FloatBuffer, beta: FloatBuffer, epsilon: Float) {
        precondition(gamma.count == beta.count, "LayerNormWeights: gamma \(gamma.count) ≠ beta \(beta.count)")
        self.gamma = gamma
        self.beta = beta
        self.epsilon = epsilon
    }

    /// `output = LayerNorm(input)` for each of `rows` rows; `output` may be `input`.
    public func apply(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, rows: Int) {
        Normalization.layerNorm(
            input, into: output, gamma: gamma.readPointer, beta: beta.readPointer, rows: rows, cols: size,
            epsilon: epsilon)
    }
}

// MARK: - Encoder

/// The parameters of one post-LN transformer layer of a BERT encoder.
public struct EncoderLayerWeights: Sendable {
    /// Query, key and value stacked into one Linear: weight (3·hidden, hidden) = [W_q; W_k; W_v], bias
    /// (3·hidden), so that one product computes all three. Rows `0..<hidden` are the query.
    public let queryKeyValue: LinearWeights
    /// `attention.output.dense`: (hidden, hidden).
    public let attentionOutput: LinearWeights
    /// `attention.output.LayerNorm`.
    public let attentionNorm: LayerNormWeights
    /// `intermediate.dense`: (intermediate, hidden).
    public let intermediate: LinearWeights
    /// `output.dense`: (hidden, intermediate).
    public let output: LinearWeights
    /// `output.LayerNorm`.
    public let outputNorm: LayerNormWeights

    public init(
        queryKeyValue: LinearWeights, attentionOutput: LinearWeights, attentionNorm: LayerNormWeights,
        intermediate: LinearWeights, output: LinearWeights, outputNorm: LayerNormWeights
    ) {
        let hidden = attentionOutput.outFeatures
        precondition(
            queryKeyValue.outFeatures == 3 * hidden && intermediate.outFeatures == output.inFeatures
                && output.outFeatures == hidden && attentionNorm.size == hidden && outputNorm.size == hidden,
            "EncoderLayerWeights: sizes do not fit together")
        self.queryKeyValue = queryKeyValue
        self.attentionOutput = attentionOutput
        self.attentionNorm = attentionNorm
        self.intermediate = intermediate
        self.output = output
        self.outputNorm = outputNorm
    }
}

/// Word, position and token-type embedding tables and their LayerNorm.
public struct EmbeddingWeights: Sendable {
    /// words is (vocabSize, hidden).
    public let words: FloatBuffer
    /// positions is (usablePositions, hidden): the rows real tokens use, from the first.
    public let positions: FloatBuffer
    /// tokenTypes is (typeVocabSize, hidden).
    public let tokenTypes: FloatBuffer
    public let norm: LayerNormWeights

    public init(words: FloatBuffer, positions: FloatBuffer, tokenTypes: FloatBuffer, norm: LayerNormWeights) {
        self.words = words
        self.positions = positions
        self.tokenTypes = tokenTypes
        self.norm = norm
    }
}

/// Every parameter of a BERT-family encoder, as F32.
public struct BertEncoderWeights: Sendable {
    public let embeddings: EmbeddingWeights
    public let layers: [EncoderLayerWeights]
    /// `pooler.dense` (hidden, hidden), applied to the first token and followed by tanh; absent in checkpoints
    /// saved without it (sentence-transformers, masked-LM models).
    public let pooler: LinearWeights?

    public init(embeddings: EmbeddingWeights, layers: [EncoderLayerWeights], pooler: LinearWeights?) {
        self.embeddings = embeddings
        self.layers = layers
        self.pooler = pooler
    }
}
