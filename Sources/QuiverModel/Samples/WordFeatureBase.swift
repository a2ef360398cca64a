import QuiverTensor

extension SampleFolders {
    // MARK: - A base whose features carry the words

    /// The demo vocabulary's content words, by the role the demo's synthetic tasks give them (scripts/demo.sh).
    public static let demoWords: [String: [String]] = [
        "positive": ["great", "excellent", "love", "happy", "best", "wonderful", "superb", "brilliant", "delightful", "fantastic", "perfect", "pleasant"],
        "negative": ["terrible", "bad", "boring", "hate", "worst", "awful", "poor", "dreadful", "horrible", "disappointing", "annoying", "sad"],
        "sports": ["game", "team", "match", "goal", "coach", "league", "season", "player", "stadium", "tournament", "referee", "score"],
        "business": ["market", "stock", "price", "profit", "company", "bank", "shares", "investor", "revenue", "merger", "budget", "trade"],
        "filler": ["the", "a", "this", "that", "was", "is", "really", "today", "again", "about", "my", "our", "and", "so", "very", "new"],
    ]

    /// Writes a BERT-shaped base model whose features carry word identity, for demos that train adapters: unlike
    /// `writeBaseModel` (random weights, with which every text gets nearly the same features and training scores at
    /// chance), its word embeddings are N(0, 1) — fifty times the position embeddings — and every layer's attention
    /// averages the words of the input into each position (query and key zero, so the attention is uniform over the
    /// tokens; value and output the identity). The first token's features are thus a bag of the words, and the
    /// small random feed-forward blocks keep them. Hugging Face folder layout, 4 layers, hidden size 128; every
    /// value comes from `seed`.
    public static func writeWordFeatureBase(to path: String, seed: UInt64 = 42) throws {
        var random = SeededGenerator(seed: seed)
        try writeFolder(path, wordFeatureBase(&random, config: config))
    }

    static func wordFeatureVocabulary() -> [String] {
        let extra = demoWords.keys.sorted().flatMap { demoWords[$0]! }
        var seen = Set<String>()
        return (sampleVocabulary() + extra).filter { seen.insert($0).inserted }
    }

    static func wordFeatureBase(_ random: inout SeededGenerator, config c: SampleConfig) -> [String: [UInt8]] {
        let vocabulary = wordFeatureVocabulary()
        let h = c.hiddenSize
        var tensors: [String: TensorData] = [:]
        func normal(_ name: String, _ shape: [Int], _ deviation: Float) {
            tensors[name] = TensorData(shape: shape, floats: random.normal(count: shape.reduce(1, *), standardDeviation: deviation))
        }
        func constant(_ name: String, _ shape: [Int], _ value: Float) {
            tensors[name] = TensorData(shape: shape, floats: [Float](repeating: value, count: shape.reduce(1, *)))
        }
        func identity(_ name: String) {
            var values = [Float](repeating: 0, count: h * h)
            for i in 0..<h { values[i * h + i] = 1 }
            tensors[name] = TensorData(shape: [h, h], floats: values)
        }
        normal("embeddings.word_embeddings.weight", [vocabulary.count, h], 1)
        normal("embeddings.position_embeddings.weight", [c.maxPositions, h], 0.02)
        normal("embeddings.token_type_embeddings.weight", [2, h], 0.02)
        constant("embeddings.LayerNorm.weight", [h], 1)
        constant("embeddings.LayerNorm.bias", [h], 0)
        for layer in 0..<c.layerCount {
            let p = "encoder.layer.\(layer)."
            for projection in ["query", "key"] {
                constant(p + "attention.self.\(projection).weight", [h, h], 0)
                constant(p + "attention.self.\(projection).bias", [h], 0)
            }
            identity(p + "attention.self.value.weight")
            constant(p + "attention.self.value.bias", [h], 0)
            identity(p + "attention.output.dense.weight")
            constant(p + "attention.output.dense.bias", [h], 0)
            constant(p + "attention.output.LayerNorm.weight", [h], 1)
            constant(p + "attention.output.LayerNorm.bias", [h], 0)
            normal(p + "intermediate.dense.weight", [c.intermediateSize, h], 0.02)
            constant(p + "intermediate.dense.bias", [c.intermediateSize], 0)
            normal(p + "output.dense.weight", [h, c.intermediateSize], 0.02)
            constant(p + "output.dense.bias", [h], 0)
            constant(p + "output.LayerNorm.weight", [h], 1)
            constant(p + "output.LayerNorm.bias", [h], 0)
        }
        normal("pooler.dense.weight", [h, h], 0.02)
        constant("pooler.dense.bias", [h], 0)
        return baseFolderFiles(tensors: tensors, vocabulary: vocabulary, config: c)
    }
}
