import Foundation
import QuiverModel
import QuiverTensor
import Testing

/// RoBERTa, XLM-RoBERTa and DistilBERT on the one encoder: config fields, checkpoint names, positions after the padding
/// index, no token types — each against `transformers` (fixtures from scripts/fixtures/make_family_fixtures.py).
@Suite struct EncoderFamilyTests {
    struct Case: Decodable {
        let ids: [[Int32]]
        let typeIds: [[Int32]]
        let attentionMask: [[Int32]]
    }

    static let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("families")

    static func encoder(_ name: String) throws -> BertEncoder {
        let path = folder.appendingPathComponent(name).path
        let config = try BertConfig.load(path: path + "/config.json")
        let weights = try BertEncoderWeights(safetensors: try SafetensorsFile(path: path + "/model.safetensors"), config: config)
        return try BertEncoder(config: config, weights: weights)
    }

    @Test(arguments: ["roberta", "xlm-roberta", "distilbert"])
    func hiddenStatesMatchTransformers(_ name: String) throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let cases = try decoder.decode([String: Case].self, from: Data(contentsOf: Self.folder.appendingPathComponent("expected.json")))
        let testCase = try #require(cases[name])
        let expected = try SafetensorsFile(path: Self.folder.appendingPathComponent("expected.safetensors").path)
        let reference = try expected.floats(name + ".hidden")

        let encoder = try Self.encoder(name)
        let (batch, length) = (testCase.ids.count, testCase.ids[0].count)
        let input = try EncoderInput(
            batch: batch, sequenceLength: length, ids: testCase.ids.flatMap { $0 }, typeIds: testCase.typeIds.flatMap { $0 },
            attentionMask: testCase.attentionMask.flatMap { $0 })
        let states = try encoder.forward(input)
        let mask = testCase.attentionMask.flatMap { $0 }
        let h = encoder.hiddenSize
        var largest: Float = 0
        for row in 0..<(batch * length) where mask[row] == 1 {
            for column in 0..<h { largest = max(largest, abs(states.values[row * h + column] - reference[row * h + column])) }
        }
        #expect(largest <= 1e-4, "\(name): largest difference \(largest)")
    }

    @Test func familyFieldsAreRead() throws {
        let roberta = try BertConfig.load(path: Self.folder.appendingPathComponent("roberta/config.json").path)
        #expect(roberta.family == .roberta && roberta.positionOffset == 2 && roberta.usablePositions == 22)
        let xlmr = try BertConfig.load(path: Self.folder.appendingPathComponent("xlm-roberta/config.json").path)
        #expect(xlmr.family == .xlmRoberta && xlmr.positionOffset == 4)
        let distil = try BertConfig.load(path: Self.folder.appendingPathComponent("distilbert/config.json").path)
        #expect(distil.family == .distilbert && distil.hiddenSize == 32 && distil.layerCount == 2 && distil.intermediateSize == 48)
        #expect(distil.hiddenAct == "relu" && distil.positionOffset == 0 && distil.layerNormEps == 1e-12)
    }

    /// A RoBERTa sequence may use every position after the padding index, and no more.
    @Test func robertaSequencesStopAtTheLastPosition() throws {
        let encoder = try Self.encoder("roberta")
        let usable = encoder.config.usablePositions
        _ = try encoder.forward(try EncoderInput(batch: 1, sequenceLength: usable, ids: Array(repeating: 5, count: usable)))
        #expect(throws: EncoderError.self) {
            _ = try encoder.forward(try EncoderInput(batch: 1, sequenceLength: usable + 1, ids: Array(repeating: 5, count: usable + 1)))
        }
    }

    @Test func hostileFamilyConfigsAreRefused() throws {
        func config(_ fields: [String: Any]) throws -> BertConfig {
            try BertConfig(json: JSONParser.parse(Array(try JSONSerialization.data(withJSONObject: fields))), source: "config.json")
        }
        let roberta: [String: Any] = [
            "model_type": "roberta", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
            "intermediate_size": 16, "max_position_embeddings": 8,
        ]
        #expect(try config(roberta).positionOffset == 2)
        for pad in [7, 8, Int.max] {
            #expect(throws: QuiverError.self, "pad_token_id \(pad)") { try config(roberta.merging(["pad_token_id": pad]) { $1 }) }
        }
        #expect(throws: QuiverError.self) { try config(["model_type": "distilbert", "vocab_size": 10, "dim": 8, "n_layers": 1, "n_heads": 3, "hidden_dim": 16]) }
    }
}
