import Testing

@testable import QuiverModel

/// `[CLS] A [SEP] (B [SEP])` assembly, truncation and batch padding.
@Suite struct TokenizerEncodingTests {
    static func tokenizer(modelMaxLength: Int = 512) throws -> BertTokenizer {
        var configuration = BertTokenizer.Configuration.uncased
        configuration.modelMaxLength = modelMaxLength
        return try BertTokenizer(
            vocabulary: Vocabulary(tokens: TokenizerBasicTests.tokens), configuration: configuration)
    }

    // MARK: - Truncation

    /// The table of `truncate_encodings_longest_first` in Hugging Face `tokenizers` (budget 7; sequences of 0, 2, 4
    /// and 8 tokens).
    @Test(arguments: [
        (0, 0, 0, 0), (0, 2, 0, 2), (0, 4, 0, 4), (0, 8, 0, 7),
        (2, 0, 2, 0), (2, 2, 2, 2), (2, 4, 2, 4), (2, 8, 2, 5),
        (4, 0, 4, 0), (4, 2, 4, 2), (4, 4, 3, 4), (4, 8, 3, 4),
        (8, 0, 7, 0), (8, 2, 5, 2), (8, 4, 4, 3), (8, 8, 3, 4),
    ])
    func longestFirstMatchesTokenizers(first: Int, second: Int, keptFirst: Int, keptSecond: Int) {
        let kept = Truncation.longestFirst(first: first, second: second, budget: 7)
        #expect(kept.first == keptFirst && kept.second == keptSecond)
    }

    @Test func longestFirstWithNoBudget() {
        let kept = Truncation.longestFirst(first: 3, second: 5, budget: 0)
        #expect(kept.first == 0 && kept.second == 0)
    }

    // MARK: - Single sequences and pairs

    @Test func singleSequence() throws {
        let encoding = try Self.tokenizer().encode("hello world")
        #expect(encoding.ids == [2, 8, 9, 3])
        #expect(encoding.typeIds == [0, 0, 0, 0])
        #expect(encoding.attentionMask == [1, 1, 1, 1])
    }

    @Test func pairHasTypeIDsZeroThenOne() throws {
        let encoding = try Self.tokenizer().encode("hello", pair: "world !")
        #expect(encoding.ids == [2, 8, 3, 9, 10, 3])
        #expect(encoding.typeIds == [0, 0, 0, 1, 1, 1])
    }

    @Test func emptyTextsStillGetSpecialTokens() throws {
        let tokenizer = try Self.tokenizer()
        #expect(tokenizer.encode("").ids == [2, 3])
        #expect(tokenizer.encode("", pair: "").ids == [2, 3, 3])
        #expect(tokenizer.encode("", pair: "").typeIds == [0, 0, 1])
    }

    @Test func truncationKeepsTheFirstTokensAndTheSpecialTokens() throws {
        let tokenizer = try Self.tokenizer()
        #expect(tokenizer.encode("hello world hello world", maxLength: 4).ids == [2, 8, 9, 3])
        #expect(tokenizer.encode("hello world", pair: "hello world hello", maxLength: 6).ids == [2, 8, 3, 8, 9, 3])
    }

    @Test func maxLengthBelowTheSpecialTokensKeepsOnlyThem() throws {
        let tokenizer = try Self.tokenizer()
        #expect(tokenizer.encode("hello world", maxLength: 0).ids == [2, 3])
        #expect(tokenizer.encode("hello world", maxLength: -5).ids == [2, 3])
        #expect(tokenizer.encode("hello", pair: "world", maxLength: 1).ids == [2, 3, 3])
        #expect(tokenizer.encode("hello", maxLength: .min).ids == [2, 3])
        #expect(tokenizer.encode("hello", pair: "world", maxLength: .min).ids == [2, 3, 3])
        #expect(tokenizer.encode("hello", pair: "world", maxLength: .max).ids == [2, 8, 3, 9, 3])
    }

    @Test func defaultMaxLengthIsTheModelMaxLength() throws {
        let tokenizer = try Self.tokenizer(modelMaxLength: 5)
        #expect(tokenizer.encode(String(repeating: "hello ", count: 100)).count == 5)
        #expect(tokenizer.encode("hello", pair: String(repeating: "world ", count: 100)).ids == [2, 8, 3, 9, 3])
        #expect(tokenizer.encode(String(repeating: "hello ", count: 100), maxLength: 8).count == 8)
    }

    // MARK: - Batches

    @Test func batchIsPaddedToTheLongestRow() throws {
        let batch = try Self.tokenizer().encodeBatch(["hello", "hello world !", ""])
        #expect(batch.batch == 3 && batch.seqLen == 5)
        #expect(batch.ids == [2, 8, 3, 0, 0, 2, 8, 9, 10, 3, 2, 3, 0, 0, 0])
        #expect(batch.typeIds == Array(repeating: 0, count: 15))
        #expect(batch.attentionMask == [1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0])
        #expect(batch.lengths == [3, 5, 2])
        #expect(batch.row(0).ids == [2, 8, 3, 0, 0])
    }

    @Test func batchWithSomePairs() throws {
        let batch = try Self.tokenizer().encodeBatch(["hello", "world"], pairs: ["world", nil], maxLength: 4)
        #expect(batch.seqLen == 4)
        // One token of room for a tie: longest_first gives it to the second sequence.
        #expect(batch.ids == [2, 3, 9, 3, 2, 9, 3, 0])
        #expect(batch.typeIds == [0, 0, 1, 1, 0, 0, 0, 0])
        #expect(batch.attentionMask == [1, 1, 1, 1, 1, 1, 1, 0])
    }

    @Test func emptyBatch() throws {
        let batch = try Self.tokenizer().encodeBatch([])
        #expect(batch.batch == 0 && batch.seqLen == 0 && batch.ids.isEmpty && batch.attentionMask.isEmpty)
    }
}
