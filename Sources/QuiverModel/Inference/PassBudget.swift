/// How many texts one encoder pass takes: as many as fit a budget of tokens (rows of the packed pass) — not a fixed
/// count, so a pass of short texts holds many and a pass of long ones few — and at most `texts`.
///
/// A pass's memory grows with its tokens (hidden states, the products' outputs). When every text runs through
/// several tasks, each task's copy counts against the tokens and against `maximumSequences`.
public struct PassBudget: Sendable, Equatable {
    /// The most tokens of one pass, every copy counted.
    public var tokens: Int
    /// The most texts of one pass.
    public var texts: Int

    /// 8,192 tokens: slices of 512 rows for both cores many times over, and a pass's hidden states of a
    /// 768-wide model 25 MB.
    public static let defaultTokens = 8192
    /// The most sequences (texts × copies) one pass runs, whatever its budget of tokens.
    public static let maximumSequences = 256

    public init(tokens: Int = defaultTokens, texts: Int = maximumSequences) {
        self.tokens = max(1, tokens)
        self.texts = max(1, min(texts, Self.maximumSequences))
    }

    /// The passes for texts of `lengths` tokens, each text run `copies` times (once per task): consecutive ranges in
    /// order, each as long as the budget allows and at least one text.
    public func passes(lengths: [Int], copies: Int = 1) -> [Range<Int>] {
        let copies = max(1, copies)
        let texts = min(self.texts, Self.maximumSequences / copies)
        var passes: [Range<Int>] = []
        var start = 0
        while start < lengths.count {
            var (end, tokens) = (start + 1, lengths[start] * copies)
            while end < lengths.count, end - start < texts,
                tokens + lengths[end] * copies <= self.tokens
            {
                tokens += lengths[end] * copies
                end += 1
            }
            passes.append(start..<end)
            start = end
        }
        return passes
    }
}
