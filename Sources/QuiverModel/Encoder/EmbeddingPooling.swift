/// How a sequence of token vectors becomes one vector per item.
public enum EmbeddingPooling: String, Sendable, CaseIterable {
    /// The first token's vector ([CLS]).
    case cls
    /// The mean over the tokens the attention mask keeps (sentence-transformers' mean pooling).
    case mean
}
