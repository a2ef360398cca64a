
/// Sentence embeddings from a base model: one vector per text, pooled from the last hidden states.
///
/// Texts are encoded on every core (truncated to `maxLength` tokens), packed without padding into passes of as many
/// as fit the `budget`, run through the encoder, and returned in the order given.
///
/// ```swift
/// let embedder = try Embedder(model: BaseModel(folder: "all-MiniLM-L6-v2"), pooling: .mean, normalize: true)
/// let vectors = try embedder.embed(["A man is eating food.", "Someone eats."])   // 2 × 384
/// ```
public struct Embedder: Sendable {
    public let model: BaseModel
    public var pooling: EmbeddingPooling
    /// Whether each vector is divided by its Euclidean norm (sentence-transformers' `Normalize` module).
    public var normalize: Bool
    /// The longest encoding in tokens, special tokens included.
    public let maxLength: Int
    /// Texts and tokens per forward pass.
    public var budget: PassBudget
    /// Threads per forward pass.
    public var threads: Int

    /// - Throws: `QuiverError(.invalidInput)` when `maxLength` is below 2 (room for [CLS] and [SEP]) or above the
    ///   model's limit (its positions and the tokenizer's `model_max_length`).
    public init(
        model: BaseModel, pooling: EmbeddingPooling = .mean, normalize: Bool = false, maxLength: Int? = nil,
        budget: PassBudget = PassBudget(), threads: Int = BertEncoder.defaultThreads
    ) throws {
        let maxLength = maxLength ?? model.maxLength
        guard maxLength >= 2, maxLength <= model.maxLength else {
            throw QuiverError(
                .invalidInput,
                "max length \(maxLength) must be between 2 and \(model.maxLength) "
                    + "(the limit of base model '\(model.name)')")
        }
        self.model = model
        self.pooling = pooling
        self.normalize = normalize
        self.maxLength = maxLength
        self.budget = budget
        self.threads = max(1, threads)
    }

    /// The embedding of every text, in order: each `model.config.hiddenSize` floats.
    public func embed(_ texts: [String]) throws -> [[Float]] {
        let encodings = model.tokenizer.encodeAll(texts, maxLength: maxLength, threads: threads)
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        for pass in budget.passes(lengths: encodings.map(\.count)) {
            let input = EncoderInput(packing: Array(encodings[pass]))
            for vector in try model.encoder.forward(input, threads: threads).pooled(pooling) {
                vectors.append(normalize ? Self.normalized(vector) : vector)
            }
        }
        return vectors
    }

    /// `vector / max(‖vector‖, 1e-12)`, as `torch.nn.functional.normalize`.
    public static func normalized(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        let scale = Float(1 / max(norm, 1e-12))
        return vector.map { $0 * scale }
    }
}
