import Foundation
import Testing

@testable import QuiverModel

// MARK: - Fixtures written by scripts/fixtures/make_subword_tokenizer_fixtures.py

/// `Fixtures/tokenizers/cases.json`: texts, pairs and the ids Hugging Face `tokenizers` gives for them with each
/// fixture tokenizer.
struct SubwordParityDocument: Decodable, Sendable {
    let tokenizers: String
    let texts: [Text]
    let pairs: [Pair]
    let truncations: [Int]
    let batch: BatchInput
    let suites: [Suite]

    struct Text: Decodable, Sendable {
        let label: String
        let text: String
    }

    struct Pair: Decodable, Sendable {
        let label: String
        let text: String
        let pair: String
    }

    struct BatchInput: Decodable, Sendable {
        let texts: [String]
        let pairs: [String]
    }

    struct PairIDs: Decodable, Sendable {
        let ids: [Int32]
        let typeIds: [Int32]
    }

    struct Expected: Decodable, Sendable {
        let texts: [[Int32]]
        let pairs: [PairIDs]
        let truncated: [String: Truncated]
    }

    struct Truncated: Decodable, Sendable {
        let texts: [[Int32]]
        let pairs: [PairIDs]
    }

    struct Batch: Decodable, Sendable {
        let ids: [[Int32]]
        let typeIds: [[Int32]]
        let attentionMask: [[Int32]]
    }

    struct Suite: Decodable, Sendable {
        let name: String
        let files: [String]
        let padId: Int32
        let vocabSize: Int
        let expected: Expected
        let batch: Batch
        let slowDifferences: [String]?
    }
}

enum SubwordFixtures {
    /// `Fixtures/tokenizers` in the test bundle.
    static var folder: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("tokenizers")
    }

    static func document() throws -> SubwordParityDocument { try parsed.get() }

    private static let parsed = Result<SubwordParityDocument, any Error> {
        let data = try Data(contentsOf: folder.appendingPathComponent("cases.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(SubwordParityDocument.self, from: data)
    }

    static func suite(_ name: String) throws -> SubwordParityDocument.Suite {
        try #require(try document().suites.first { $0.name == name })
    }

    /// The tokenizer of a fixture folder, loaded as the engine loads it.
    static func tokenizer(_ name: String) throws -> any TextTokenizer {
        try Tokenizers.load(folder: folder.appendingPathComponent(name))
    }

    /// The tokenizer of a fixture folder's files in memory.
    static func files(_ name: String) throws -> [String: [UInt8]] {
        var files: [String: [UInt8]] = [:]
        for file in try suite(name).files {
            files[file] = [UInt8](
                try Data(contentsOf: folder.appendingPathComponent(name).appendingPathComponent(file)))
        }
        return files
    }
}

/// Nil when equal, else where the id sequences first differ.
func subwordDifference(_ actual: [Int32], _ expected: [Int32], _ tokenizer: any TextTokenizer) -> String? {
    guard actual != expected else { return nil }
    let index =
        (0..<min(actual.count, expected.count)).first { actual[$0] != expected[$0] }
        ?? min(actual.count, expected.count)
    func show(_ ids: [Int32]) -> String {
        ids[max(0, index - 2)..<min(ids.count, index + 4)].map {
            "\($0):\(tokenizer.token(for: $0).map(quoted) ?? "?")"
        }
        .joined(separator: " ")
    }
    return
        "first difference at \(index) (\(actual.count) vs \(expected.count) ids): got \(show(actual)), expected \(show(expected))"
}

// MARK: - Parity

/// Exact parity with Hugging Face `tokenizers` for byte-level BPE (RoBERTa style, with and without prefix
/// space, from vocab.json + merges.txt, with normalizers/template/added tokens, Llama-2 style, Llama-3 and Qwen2
/// style with their Split regex, every Split behaviour) and SentencePiece Unigram (XLM-R style from
/// tokenizer.json and from sentencepiece.bpe.model, byte fallback, variants).
@Suite struct SubwordTokenizerParityTests {
    static let suiteNames = [
        "bpe", "bpe-prefix", "bpe-legacy", "bpe-extras", "bpe-metaspace", "unigram", "unigram-legacy",
        "unigram-variants", "unigram-bytefallback", "bpe-llama3", "bpe-qwen2", "bpe-split-a", "bpe-split-b",
    ]

    @Test func fixturesHoldEverySuite() throws {
        let document = try SubwordFixtures.document()
        #expect(document.suites.map(\.name).sorted() == Self.suiteNames.sorted())
        #expect(document.texts.count >= 50)
        #expect(document.texts.contains { $0.text.unicodeScalars.count >= 5000 })
    }

    @Test(arguments: suiteNames)
    func textsMatchTokenizers(suiteName: String) throws {
        let document = try SubwordFixtures.document()
        let suite = try SubwordFixtures.suite(suiteName)
        let tokenizer = try SubwordFixtures.tokenizer(suiteName)
        for (text, expected) in zip(document.texts, suite.expected.texts) {
            let encoding = tokenizer.encode(text.text, pair: nil, maxLength: .max)
            let difference = subwordDifference(encoding.ids, expected, tokenizer)
            #expect(difference == nil, "\(suiteName)/\(text.label): \(difference ?? "")")
            #expect(encoding.typeIds == [Int32](repeating: 0, count: expected.count), "\(suiteName)/\(text.label)")
            #expect(encoding.attentionMask == [Int32](repeating: 1, count: expected.count))
        }
    }

    @Test(arguments: suiteNames)
    func pairsMatchTokenizers(suiteName: String) throws {
        let document = try SubwordFixtures.document()
        let suite = try SubwordFixtures.suite(suiteName)
        let tokenizer = try SubwordFixtures.tokenizer(suiteName)
        for (pair, expected) in zip(document.pairs, suite.expected.pairs) {
            let encoding = tokenizer.encode(pair.text, pair: pair.pair, maxLength: .max)
            let difference = subwordDifference(encoding.ids, expected.ids, tokenizer)
            #expect(difference == nil, "\(suiteName)/\(pair.label): \(difference ?? "")")
            #expect(encoding.typeIds == expected.typeIds, "\(suiteName)/\(pair.label): type ids")
        }
    }

    @Test(arguments: suiteNames)
    func truncationMatchesTokenizers(suiteName: String) throws {
        let document = try SubwordFixtures.document()
        let suite = try SubwordFixtures.suite(suiteName)
        let tokenizer = try SubwordFixtures.tokenizer(suiteName)
        for maxLength in document.truncations {
            let expected = try #require(suite.expected.truncated[String(maxLength)])
            for (text, ids) in zip(document.texts, expected.texts) {
                let encoding = tokenizer.encode(text.text, pair: nil, maxLength: maxLength)
                let difference = subwordDifference(encoding.ids, ids, tokenizer)
                #expect(difference == nil, "\(suiteName)/\(text.label)/\(maxLength): \(difference ?? "")")
            }
            for (pair, ids) in zip(document.pairs, expected.pairs) {
                let encoding = tokenizer.encode(pair.text, pair: pair.pair, maxLength: maxLength)
                let difference = subwordDifference(encoding.ids, ids.ids, tokenizer)
                #expect(difference == nil, "\(suiteName)/\(pair.label)/\(maxLength): \(difference ?? "")")
                #expect(encoding.typeIds == ids.typeIds, "\(suiteName)/\(pair.label)/\(maxLength): type ids")
            }
        }
    }

    @Test(arguments: suiteNames)
    func batchMatchesTokenizers(suiteName: String) throws {
        let document = try SubwordFixtures.document()
        let suite = try SubwordFixtures.suite(suiteName)
        let tokenizer = try SubwordFixtures.tokenizer(suiteName)
        #expect(tokenizer.paddingID == suite.padId)
        let batch = tokenizer.encodeBatch(document.batch.texts, pairs: document.batch.pairs, maxLength: .max)
        #expect(batch.ids == suite.batch.ids.flatMap { $0 })
        #expect(batch.typeIds == suite.batch.typeIds.flatMap { $0 })
        #expect(batch.attentionMask == suite.batch.attentionMask.flatMap { $0 })
    }

    /// Files in memory give the same tokenizer as the folder.
    @Test(arguments: suiteNames)
    func filesInMemoryLoadTheSame(suiteName: String) throws {
        let document = try SubwordFixtures.document()
        let suite = try SubwordFixtures.suite(suiteName)
        let tokenizer = try Tokenizers.load(files: SubwordFixtures.files(suiteName), source: suiteName)
        for (text, expected) in zip(document.texts, suite.expected.texts).prefix(10) {
            #expect(tokenizer.encode(text.text, pair: nil, maxLength: .max).ids == expected, "\(text.label)")
        }
    }

    /// The slow Python tokenizers differ from the fast ones only where known (Quiver follows the fast ones).
    @Test func slowTokenizerDifferencesAreTheKnownOnes() throws {
        #expect(try SubwordFixtures.suite("bpe-legacy").slowDifferences == [])
        // XLMRobertaTokenizer (sentencepiece) does not strip the spaces before <mask>.
        #expect(
            try SubwordFixtures.suite("unigram-legacy").slowDifferences == ["mask_after_spaces", "mixed_everything"])
    }
}
