import Foundation
import Testing

@testable import QuiverModel

/// Exact parity with Hugging Face `BertTokenizerFast` / `tokenizers` on the fixtures of
/// `scripts/fixtures/make_tokenizer_fixtures.py`.
@Suite struct TokenizerParityTests {
    static let suiteNames = [
        "vocab-uncased", "vocab-cased", "vocab-cased-strip-accents", "vocab-uncased-keep-accents",
        "vocab-uncased-no-cjk-split", "small-uncased", "small-cased",
    ]

    @Test func fixturesHoldEverySuite() throws {
        let document = try TokenizerFixtures.loadParity()
        #expect(document.suites.map(\.name) == Self.suiteNames)
        #expect(document.suites.allSatisfy { $0.cases.count >= 50 && !$0.batches.isEmpty })
    }

    @Test(arguments: suiteNames)
    func encodingsMatchTransformers(suiteName: String) throws {
        let suite = try #require(try TokenizerFixtures.loadParity().suites.first { $0.name == suiteName })
        let tokenizer = try TokenizerFixtures.tokenizer(for: suite)
        for testCase in suite.cases {
            let encoding = tokenizer.encode(testCase.text, pair: testCase.pair, maxLength: testCase.maxLength)
            let difference = firstDifference(
                actual: encoding.ids, expected: testCase.ids, expectedTokens: testCase.tokens, tokenizer: tokenizer)
            #expect(difference == nil, "\(suiteName)/\(testCase.label): \(difference ?? "")")
            #expect(encoding.typeIds == testCase.typeIds, "\(suiteName)/\(testCase.label): type ids")
            #expect(encoding.attentionMask == Array(repeating: 1, count: testCase.ids.count))
        }
    }

    @Test(arguments: suiteNames)
    func tokensMatchTransformers(suiteName: String) throws {
        let suite = try #require(try TokenizerFixtures.loadParity().suites.first { $0.name == suiteName })
        let tokenizer = try TokenizerFixtures.tokenizer(for: suite)
        for testCase in suite.cases where testCase.pair == nil && testCase.maxLength == nil && testCase.ids.count < 512
        {
            let expected = Array(testCase.tokens.dropFirst().dropLast())
            #expect(tokenizer.tokenize(testCase.text) == expected, "\(suiteName)/\(testCase.label)")
        }
    }

    @Test(arguments: suiteNames)
    func batchesMatchTransformers(suiteName: String) throws {
        let suite = try #require(try TokenizerFixtures.loadParity().suites.first { $0.name == suiteName })
        let tokenizer = try TokenizerFixtures.tokenizer(for: suite)
        for batch in suite.batches {
            let encoded = tokenizer.encodeBatch(batch.texts, pairs: batch.pairs, maxLength: batch.maxLength)
            #expect(encoded.batch == batch.ids.count, "\(suiteName)/\(batch.label)")
            #expect(encoded.seqLen == batch.ids.first?.count, "\(suiteName)/\(batch.label)")
            let difference = firstDifference(
                actual: encoded.ids, expected: batch.ids.flatMap { $0 }, tokenizer: tokenizer)
            #expect(difference == nil, "\(suiteName)/\(batch.label): \(difference ?? "")")
            #expect(encoded.typeIds == batch.typeIds.flatMap { $0 }, "\(suiteName)/\(batch.label): type ids")
            #expect(encoded.attentionMask == batch.attentionMask.flatMap { $0 }, "\(suiteName)/\(batch.label): mask")
        }
    }

    /// The tokenizer.json loader reads the normalizer flags the fixture script saved.
    @Test func tokenizerJSONNormalizerFlagsAreRead() throws {
        let document = try TokenizerFixtures.loadParity()
        for suite in document.suites where suite.tokenizerJson != nil {
            let configuration = try TokenizerFixtures.tokenizer(for: suite).configuration
            #expect(configuration.lowercase == suite.options.doLowerCase, "\(suite.name)")
            #expect(configuration.stripAccents == suite.options.stripAccents, "\(suite.name)")
            #expect(configuration.tokenizeChineseChars == suite.options.tokenizeChineseChars, "\(suite.name)")
        }
    }

    /// Where the slow Python tokenizer disagrees with the fast one, Quiver follows the fast one. This keeps the
    /// known differences listed in docs/tokenizer.md from growing unnoticed.
    @Test func slowTokenizerDifferencesAreTheKnownOnes() throws {
        let known: Set<String> = [
            "private_use_and_unassigned",  // unassigned code points: slow removes them, fast keeps them
            "pair_equal_odd_budget", "pair_both_long", "pair_default_max_length",  // longest_first odd token
            "truncate_single_only_specials",  // max_length 2: slow does not truncate at all
        ]
        let document = try TokenizerFixtures.loadParity()
        for suite in document.suites {
            let differing = Set(suite.cases.filter { $0.slow != nil }.map(\.label))
            #expect(differing.isSubset(of: known), "\(suite.name): \(differing.subtracting(known))")
        }
    }
}
