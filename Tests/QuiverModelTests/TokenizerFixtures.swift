import Foundation
import QuiverModel

// MARK: - Parity fixtures written by scripts/fixtures/make_tokenizer_fixtures.py

/// `Fixtures/tokenizer/parity.json`: expected encodings from Hugging Face `transformers` / `tokenizers`.
struct TokenizerParityDocument: Decodable, Sendable {
    let transformers: String
    let tokenizers: String
    let modelMaxLength: Int
    let suites: [Suite]

    struct Suite: Decodable, Sendable {
        let name: String
        /// A `vocab.txt` relative to `Fixtures/tokenizer`, used with `options`.
        let vocabulary: String?
        /// A `tokenizer.json` relative to `Fixtures/tokenizer`, whose normalizer should match `options`.
        let tokenizerJson: String?
        let options: Options
        let cases: [Case]
        let batches: [Batch]
    }

    struct Options: Decodable, Sendable {
        let doLowerCase: Bool
        let stripAccents: Bool?
        let tokenizeChineseChars: Bool
    }

    struct Expected: Decodable, Sendable {
        let tokens: [String]
        let ids: [Int32]
        let typeIds: [Int32]
    }

    struct Case: Decodable, Sendable {
        let label: String
        let text: String
        let pair: String?
        let maxLength: Int?
        let tokens: [String]
        let ids: [Int32]
        let typeIds: [Int32]
        /// The slow Python tokenizer's output, present only where it differs from the fast one.
        let slow: Expected?
    }

    struct Batch: Decodable, Sendable {
        let label: String
        let texts: [String]
        let pairs: [String]?
        let maxLength: Int?
        let ids: [[Int32]]
        let typeIds: [[Int32]]
        let attentionMask: [[Int32]]
    }
}

enum TokenizerFixtures {
    /// `Fixtures/tokenizer` in the test bundle.
    static var folder: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("tokenizer")
    }

    /// The real all-MiniLM-L6-v2 (bert-base-uncased) vocabulary folder.
    static var miniLMFolder: URL { folder.appendingPathComponent("minilm") }

    /// The parsed parity.json, read once per test process.
    static func loadParity() throws -> TokenizerParityDocument { try parity.get() }

    private static let parity = Result<TokenizerParityDocument, any Error> {
        let data = try Data(contentsOf: folder.appendingPathComponent("parity.json"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(TokenizerParityDocument.self, from: data)
    }

    /// The all-MiniLM-L6-v2 vocabulary, read once per test process (building its trie is slow in debug builds).
    static func miniLMVocabulary() throws -> Vocabulary { try miniLMVocabularyResult.get() }

    private static let miniLMVocabularyResult = Result<Vocabulary, any Error> {
        try Vocabulary(vocabFile: miniLMFolder.appendingPathComponent("vocab.txt"))
    }

    /// The tokenizer a suite describes.
    static func tokenizer(for suite: TokenizerParityDocument.Suite) throws -> BertTokenizer {
        if let path = suite.tokenizerJson {
            return try BertTokenizer(tokenizerJSON: folder.appendingPathComponent(path))
        }
        precondition(suite.vocabulary == "minilm/vocab.txt", "unexpected vocabulary \(suite.vocabulary ?? "nil")")
        let configuration = BertTokenizer.Configuration(
            lowercase: suite.options.doLowerCase, stripAccents: suite.options.stripAccents,
            tokenizeChineseChars: suite.options.tokenizeChineseChars, modelMaxLength: 512)
        return try BertTokenizer(vocabulary: miniLMVocabulary(), configuration: configuration)
    }
}

// MARK: - Comparing token sequences

/// Nil when `actual == expected`; otherwise a message showing the first differing position and the tokens
/// around it, e.g. `first difference at 3: expected "##strom" (12992), got "[UNK]" (100)`.
func firstDifference(
    actual: [Int32], expected: [Int32], expectedTokens: [String]? = nil, tokenizer: BertTokenizer
) -> String? {
    guard actual != expected else { return nil }
    let common = min(actual.count, expected.count)
    let index = (0..<common).first { actual[$0] != expected[$0] } ?? common
    func describe(_ ids: [Int32], tokens: [String]?) -> String {
        guard index < ids.count else { return "end of sequence" }
        let token = tokens?[index] ?? tokenizer.token(for: ids[index]) ?? "?"
        return "\(token.debugDescription) (\(ids[index]))"
    }
    let context = actual[max(0, index - 3)..<min(actual.count, index + 3)].map { tokenizer.token(for: $0) ?? "?" }
    return "first difference at \(index) of \(expected.count): expected \(describe(expected, tokens: expectedTokens)), "
        + "got \(describe(actual, tokens: nil)) (\(actual.count) ids); got around it: \(context)"
}
