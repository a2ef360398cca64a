import Foundation
import Testing

@testable import QuiverModel

/// The normalizer and pre-tokenizer against `tokenizers`' BertNormalizer + BertPreTokenizer on sweeps over whole
/// Unicode classes (`Fixtures/tokenizer/normalization.json`).
@Suite struct TokenizerNormalizationTests {
    struct Document: Decodable {
        struct Sweep: Decodable {
            let label: String
            let text: String
        }
        struct Options: Decodable {
            let cleanText: Bool
            let handleChineseChars: Bool
            let stripAccents: Bool?
            let lowercase: Bool
        }
        struct Configuration: Decodable {
            let name: String
            let options: Options
            /// For each sweep, its words separated by spaces.
            let words: [String]
        }
        let sweeps: [Sweep]
        let configurations: [Configuration]
    }

    /// Collects the words the normalizer's output splits into.
    struct WordCollector: NormalizedScalarSink {
        var words: [[UInt32]] = []
        var current: [UInt32] = []
        var isFull: Bool { false }

        mutating func acceptSpace() { finishWord() }

        mutating func acceptPunctuation(_ scalar: Unicode.Scalar) {
            finishWord()
            words.append([scalar.value])
        }

        mutating func acceptWordScalar(_ scalar: Unicode.Scalar) { current.append(scalar.value) }

        mutating func finishWord() {
            if !current.isEmpty { words.append(current) }
            current = []
        }
    }

    static func words(of text: String, normalizer: BertNormalizer) -> [[UInt32]] {
        var collector = WordCollector()
        for scalar in text.unicodeScalars { normalizer.normalize(scalar, into: &collector) }
        collector.finishWord()
        return collector.words
    }

    static func describe(_ word: [UInt32]?) -> String {
        guard let word else { return "nothing" }
        return word.map { String(format: "U+%04X", $0) }.joined(separator: " ")
    }

    @Test func sweepsMatchTokenizers() throws {
        let url = TokenizerFixtures.folder.appendingPathComponent("normalization.json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let document = try decoder.decode(Document.self, from: Data(contentsOf: url))
        #expect(document.configurations.count == 5)
        #expect(document.sweeps.count >= 15)
        for configuration in document.configurations {
            let options = configuration.options
            let normalizer = BertNormalizer(
                cleanText: options.cleanText, handleChineseChars: options.handleChineseChars,
                stripAccents: options.stripAccents ?? options.lowercase, lowercase: options.lowercase)
            #expect(configuration.words.count == document.sweeps.count)
            for (sweep, expectedWords) in zip(document.sweeps, configuration.words) {
                // Split on U+0020 scalars: splitting the String would glue a leading combining mark to the space.
                let expected = expectedWords.unicodeScalars.split(separator: " ").map { $0.map(\.value) }
                let actual = Self.words(of: sweep.text, normalizer: normalizer)
                guard actual != expected else { continue }
                let index =
                    zip(actual, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                    ?? min(actual.count, expected.count)
                Issue.record(
                    """
                    \(configuration.name)/\(sweep.label): word \(index) of \(expected.count): expected \
                    \(Self.describe(index < expected.count ? expected[index] : nil)), got \
                    \(Self.describe(index < actual.count ? actual[index] : nil))
                    """)
            }
        }
    }

    /// Decompositions come from a table built once with Foundation; check a few well-known ones directly.
    @Test func canonicalDecompositionOfSingleScalars() {
        func decomposition(_ scalar: Unicode.Scalar) -> [UInt32] {
            var parts: [UInt32] = []
            CanonicalDecomposition.forEach(scalar) { parts.append($0.value) }
            return parts
        }
        #expect(decomposition("é") == [0x65, 0x301])
        #expect(decomposition("\u{212B}") == [0x41, 0x30A])  // ANGSTROM SIGN
        #expect(decomposition("\u{1E69}") == [0x73, 0x323, 0x307])  // ṩ, two marks
        #expect(decomposition("한") == [0x1112, 0x1161, 0x11AB])  // Hangul, arithmetic
        #expect(decomposition("가") == [0x1100, 0x1161])  // no trailing consonant
        #expect(decomposition("\u{F900}") == [0x8C48])  // CJK compatibility ideograph
        #expect(decomposition("\u{2F800}") == [0x4E3D])
        #expect(decomposition("a") == [0x61])
        #expect(decomposition("中") == [0x4E2D])
    }
}
