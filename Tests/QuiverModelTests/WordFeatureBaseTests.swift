import Foundation
import QuiverStore
import Testing

@testable import QuiverModel

/// The demo's word-feature base (`quiver sample --word-features`): its first token's features must tell texts apart
/// by their words — which the random sample base does not, the reason the training demo needs it.
struct WordFeatureBaseTests {
    private static func clsFeatures(folder: String, texts: [String]) throws -> [[Float]] {
        let base = try BaseModel(folder: folder)
        let input = EncoderInput(base.tokenizer.encodeBatch(texts))
        return try base.encoder.forward(input, threads: 1).pooled(.cls)
    }

    private static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for (x, y) in zip(a, b) { dot += Double(x * y); na += Double(x * x); nb += Double(y * y) }
        return dot / (na * nb).squareRoot()
    }

    private static func temporaryFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-wordbase-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func firstTokenFeaturesCarryTheWords() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try SampleFolders.writeWordFeatureBase(to: folder + "/word-bert", seed: 42)
        try SampleFolders.writeBaseModel(to: folder + "/random-bert", config: SampleFolders.config, seed: 42)
        let texts = ["the game was great", "the market was terrible"]

        let words = try Self.clsFeatures(folder: folder + "/word-bert", texts: texts)
        let random = try Self.clsFeatures(folder: folder + "/random-bert", texts: texts)
        let wordsCosine = Self.cosine(words[0], words[1]), randomCosine = Self.cosine(random[0], random[1])
        #expect(randomCosine > 0.95, "the random base's features hardly depend on the text: cosine \(randomCosine)")
        #expect(wordsCosine < 0.8, "the word-feature base's features differ with the words: cosine \(wordsCosine)")
    }

    @Test func everyDemoWordIsOneToken() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try SampleFolders.writeWordFeatureBase(to: folder + "/word-bert")
        let base = try BaseModel(folder: folder + "/word-bert")
        for word in SampleFolders.demoWords.values.joined() {
            #expect(base.tokenizer.encode(word).ids.count == 3, "\(word) is one token between [CLS] and [SEP]")
        }
    }

    @Test func sameSeedSameBytes() throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try SampleFolders.writeWordFeatureBase(to: folder + "/a", seed: 7)
        try SampleFolders.writeWordFeatureBase(to: folder + "/b", seed: 7)
        for file in ["config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"] {
            #expect(FileManager.default.contentsEqual(atPath: folder + "/a/" + file, andPath: folder + "/b/" + file), "\(file)")
        }
    }
}
