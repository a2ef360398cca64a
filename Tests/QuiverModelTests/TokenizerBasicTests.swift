import Foundation
import Testing

@testable import QuiverModel

/// The basic tokenizer and WordPiece on a tiny vocabulary, one behaviour per test.
@Suite struct TokenizerBasicTests {
    static let tokens = [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "hello", "world", "!", ",", "a", "##a",
        "\u{E9}", "e\u{301}", "中", "文", "[", "]", "cl", "##s", "wanted", "naive", "cafe", "i", "\u{307}", "ab", "##c",
    ]

    static func tokenizer(_ configuration: BertTokenizer.Configuration = .uncased) throws -> BertTokenizer {
        try BertTokenizer(vocabulary: Vocabulary(tokens: tokens), configuration: configuration)
    }

    // MARK: - WordPiece

    @Test func greedyLongestMatchFirst() throws {
        #expect(try Self.tokenizer().tokenize("unaffable") == ["un", "##aff", "##able"])
        #expect(try Self.tokenizer().tokenize("abc") == ["ab", "##c"])
    }

    @Test func wordThatCannotBeSplitIsUnknownAsAWhole() throws {
        #expect(try Self.tokenizer().tokenize("hello unaffablez world") == ["hello", "[UNK]", "world"])
    }

    @Test func wordsLongerThanMaxInputCharsPerWordAreUnknown() throws {
        let tokenizer = try Self.tokenizer()
        #expect(tokenizer.tokenize(String(repeating: "a", count: 100)).count == 100)  // a ##a ##a …
        #expect(tokenizer.tokenize(String(repeating: "a", count: 101)) == ["[UNK]"])
        var shortWords = BertTokenizer.Configuration.uncased
        shortWords.maxInputCharsPerWord = 3
        #expect(try Self.tokenizer(shortWords).tokenize("aaa aaaa") == ["a", "##a", "##a", "[UNK]"])
    }

    @Test func vocabularyWithoutContinuationPiecesMatchesWholeWordsOnly() throws {
        let tokenizer = try BertTokenizer(
            vocabulary: Vocabulary(tokens: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "ab", "a"]))
        #expect(tokenizer.tokenize("ab a abb") == ["ab", "a", "[UNK]"])
    }

    // MARK: - Basic tokenizer

    @Test func punctuationIsSplitOff() throws {
        #expect(try Self.tokenizer().tokenize("hello,world!") == ["hello", ",", "world", "!"])
    }

    @Test func asciiSymbolsCountAsPunctuation() throws {
        #expect(try Self.tokenizer().tokenize("a$a") == ["a", "[UNK]", "a"])  // "$" is split off (and unknown)
    }

    @Test func chineseCharactersAreSplitWhenConfigured() throws {
        #expect(try Self.tokenizer().tokenize("hello中文world") == ["hello", "中", "文", "world"])
        var noSplit = BertTokenizer.Configuration.uncased
        noSplit.tokenizeChineseChars = false
        #expect(try Self.tokenizer(noSplit).tokenize("hello中文world") == ["[UNK]"])
    }

    @Test func controlCharactersAreRemovedAndWhitespaceSeparates() throws {
        let tokenizer = try Self.tokenizer()
        #expect(tokenizer.tokenize("hel\u{0}lo\u{200B} wor\u{FFFD}ld\u{7F}") == ["hello", "world"])
        #expect(
            tokenizer.tokenize("hello\u{A0}world\u{3000}a\u{2028}a\tworld\r\nhello") == [
                "hello", "world", "a", "a", "world", "hello",
            ])
        #expect(tokenizer.tokenize("") == [])
        #expect(tokenizer.tokenize(" \t\n ") == [])
    }

    @Test func lowercasingAndAccentStripping() throws {
        #expect(try Self.tokenizer().tokenize("HELLO Café NAÏVE") == ["hello", "cafe", "naive"])
        var keepAccents = BertTokenizer.Configuration.uncased
        keepAccents.stripAccents = false
        #expect(try Self.tokenizer(keepAccents).tokenize("HELLO \u{C9}") == ["hello", "\u{E9}"])
        #expect(try Self.tokenizer(.cased).tokenize("hello Hello") == ["hello", "[UNK]"])
        var casedStripped = BertTokenizer.Configuration.cased
        casedStripped.stripAccents = true
        #expect(try Self.tokenizer(casedStripped).tokenize("caf\u{E9}") == ["cafe"])
    }

    @Test func dottedCapitalILowercasesToTwoScalars() throws {
        var keepAccents = BertTokenizer.Configuration.uncased
        keepAccents.stripAccents = false
        // Lower-casing U+0130 gives "i" + U+0307; the vocabulary has no "##\u{307}", so the word is unknown.
        #expect(try Self.tokenizer(keepAccents).tokenize("\u{130}") == ["[UNK]"])
        // With accents stripped the dot is removed before lower-casing, leaving "i".
        #expect(try Self.tokenizer().tokenize("\u{130}") == ["i"])
    }

    /// Tokens that Swift `String` considers equal but that differ scalar by scalar stay two tokens.
    @Test func canonicallyEquivalentTokensAreDistinct() throws {
        let vocabulary = try Vocabulary(tokens: Self.tokens)
        #expect(vocabulary.id(for: "\u{E9}") == 14)
        #expect(vocabulary.id(for: "e\u{301}") == 15)
        var cased = BertTokenizer.Configuration.cased
        cased.stripAccents = false
        let tokenizer = try Self.tokenizer(cased)
        #expect(tokenizer.tokenIDs("\u{E9}") == [14])
        #expect(tokenizer.tokenIDs("e\u{301}") == [15])
    }

    // MARK: - Special tokens

    @Test func specialTokensInTheTextAreKeptWhole() throws {
        let tokenizer = try Self.tokenizer()
        #expect(tokenizer.tokenize("hello[SEP]world [MASK]!") == ["hello", "[SEP]", "world", "[MASK]", "!"])
        #expect(tokenizer.tokenize("[cls]") == ["[", "cl", "##s", "]"])  // matched before lower-casing only
        #expect(tokenizer.tokenize("[CLS") == ["[", "cl", "##s"])  // incomplete: an ordinary word
    }

    @Test func additionalSpecialTokensMatchInsideWords() throws {
        var configuration = BertTokenizer.Configuration.uncased
        configuration.additionalSpecialTokens = ["wanted"]
        #expect(try Self.tokenizer(configuration).tokenize("unwanted") == ["un", "wanted"])
    }

    // MARK: - Large inputs

    /// Linear time and bounded memory: a 2-million-scalar word and a text of 300,000 words.
    @Test func hugeInputs() throws {
        let tokenizer = try Self.tokenizer()
        #expect(tokenizer.tokenize(String(repeating: "a", count: 2_000_000)) == ["[UNK]"])
        let manyWords = String(repeating: "hello, world! ", count: 75_000)
        #expect(tokenizer.tokenIDs(manyWords).count == 300_000)
        #expect(tokenizer.encode(manyWords, maxLength: 16).count == 16)
        #expect(tokenizer.tokenIDs(manyWords, limit: 5) == [8, 11, 9, 10, 8])
        let manySpecials = String(repeating: "[SEP]", count: 100_000)
        #expect(tokenizer.tokenIDs(manySpecials).count == 100_000)
    }

    // MARK: - Lookups

    @Test func tokenAndIDLookups() throws {
        let tokenizer = try Self.tokenizer()
        #expect(tokenizer.id(for: "hello") == 8)
        #expect(tokenizer.id(for: "nope") == nil)
        #expect(tokenizer.token(for: 8) == "hello")
        #expect(tokenizer.token(for: -1) == nil)
        #expect(tokenizer.token(for: 1_000) == nil)
        #expect(tokenizer.unknownID == 1 && tokenizer.classifierID == 2)
        #expect(tokenizer.separatorID == 3 && tokenizer.paddingID == 0)
    }
}
