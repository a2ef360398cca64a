// MARK: - Truncation

/// How much of each sequence to keep so that the tokens fit in a budget.
enum Truncation {
    /// The `longest_first` strategy of Hugging Face `tokenizers` for a pair of sequences of `first` and `second`
    /// tokens, with room for `budget` tokens in all (special tokens excluded).
    ///
    /// When only the longer sequence needs cutting it is cut to what the shorter one leaves; when both must
    /// be cut each gets half, the odd token going to the longer one (to the second one when they are equal).
    ///
    /// The slow Python tokenizer gives the odd token to the first sequence instead when both are cut equally.
    static func longestFirst(first: Int, second: Int, budget: Int) -> (first: Int, second: Int) {
        guard first + second > budget else { return (first, second) }
        let swapped = first > second
        var shorter = min(first, second)
        var longer = shorter > budget ? shorter : max(shorter, budget - shorter)
        if shorter + longer > budget {
            shorter = budget / 2
            longer = shorter + budget % 2
        }
        return swapped ? (longer, shorter) : (shorter, longer)
    }
}
