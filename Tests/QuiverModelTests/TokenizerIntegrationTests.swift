import Foundation
import Testing

@testable import QuiverModel

/// all-MiniLM-L6-v2's tokenizer files (vocab.txt, tokenizer.json, tokenizer_config.json): see `MiniLM`.
@Suite(.enabled(if: MiniLM.runs, "all-MiniLM-L6-v2 not found (make test fetches it)"))
struct TokenizerIntegrationTests {
    static var modelFolder: URL {
        get throws { URL(fileURLWithPath: try MiniLM.requiredFolder()) }
    }

    /// The model's tokenizer.json and vocab.txt give the same ids, equal to the checked-in fixtures.
    @Test func tokenizerJSONAndVocabFileAgree() throws {
        let fromJSON = try BertTokenizer(tokenizerJSON: Self.modelFolder.appendingPathComponent("tokenizer.json"))
        let fromVocab = try BertTokenizer(vocabFile: Self.modelFolder.appendingPathComponent("vocab.txt"))
        let fromFolder = try BertTokenizer(folder: Self.modelFolder)
        #expect(fromJSON.vocabulary.tokens == fromVocab.vocabulary.tokens)
        #expect(fromFolder.configuration.modelMaxLength == 512)

        let suite = try #require(try TokenizerFixtures.loadParity().suites.first { $0.name == "vocab-uncased" })
        for testCase in suite.cases {
            let expected = testCase.ids
            for (name, tokenizer) in [("tokenizer.json", fromJSON), ("vocab.txt", fromVocab), ("folder", fromFolder)] {
                let ids = tokenizer.encode(testCase.text, pair: testCase.pair, maxLength: testCase.maxLength).ids
                let difference = firstDifference(
                    actual: ids, expected: expected, expectedTokens: testCase.tokens,
                    tokenizer: tokenizer)
                #expect(difference == nil, "\(name)/\(testCase.label): \(difference ?? "")")
            }
        }
    }
}
