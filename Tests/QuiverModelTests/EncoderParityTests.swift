import Foundation
import Testing

@testable import QuiverModel

/// Token ids, last hidden states, CLS and mean pooling and the pooler against `transformers` on two tiny random
/// BERTs (GELU/F32/with pooler, and ReLU/F16/`bert.` prefix/no pooler), padded batches and pairs included.
@Suite struct EncoderParityTests {
    static let tolerance: Float = 1e-4

    static var cases: [(model: String, testCase: EncoderParityDocument.Case)] {
        guard let document = try? EncoderFixtures.parity() else { return [] }
        return document.models.flatMap { model in model.cases.map { (model.folder, $0) } }
    }

    @Test(arguments: cases)
    func matchesTransformers(model name: String, testCase: EncoderParityDocument.Case) throws {
        let model = try EncoderFixtures.model(name)
        let batch = model.tokenizer.encodeBatch(testCase.texts, pairs: testCase.pairs, maxLength: testCase.maxLength)
        #expect(batch.ids == testCase.ids.flatMap { $0 }, "ids")
        #expect(batch.typeIds == testCase.typeIds.flatMap { $0 }, "type ids")
        #expect(batch.attentionMask == testCase.attentionMask.flatMap { $0 }, "attention mask")

        let tensors = try EncoderFixtures.tensors()
        let key = "\(name).\(testCase.label)"
        let hidden = model.config.hiddenSize
        let padded = EncoderInput(batch)
        let packed = EncoderInput(packing: testCase.texts.indices.map {
            model.tokenizer.encode(testCase.texts[$0], pair: testCase.pairs?[$0], maxLength: testCase.maxLength)
        })
        #expect(packed == padded.unpadded, "packing the tokenizer's encodings drops exactly the padding")
        for (threads, input) in [(1, padded), (2, padded), (1, packed), (2, packed)] {
            let layout = input == packed ? "packed" : "padded"
            let states = try model.encoder.forward(input, threads: threads)
            let expectedHidden = try tensors.floats(key + ".hidden")
            let difference = floatDifference(
                states.values, input == packed ? padded.tokenRows(expectedHidden, width: hidden) : expectedHidden,
                tolerance: Self.tolerance, width: hidden)
            #expect(difference == nil, "\(key) hidden, \(layout), \(threads) threads: \(difference ?? "")")
            for pooling in EmbeddingPooling.allCases {
                let pooled = states.pooled(pooling).flatMap { $0 }
                let expected = try tensors.floats("\(key).\(pooling.rawValue)")
                let difference = floatDifference(pooled, expected, tolerance: Self.tolerance, width: hidden)
                #expect(difference == nil, "\(key) \(pooling) pooling, \(layout): \(difference ?? "")")
            }
            if tensors.tensorNames.contains(key + ".pooler") {
                let pooler = try #require(model.encoder.pooler(states)).flatMap { $0 }
                let difference = floatDifference(
                    pooler, try tensors.floats(key + ".pooler"), tolerance: Self.tolerance, width: hidden)
                #expect(difference == nil, "\(key) pooler, \(layout): \(difference ?? "")")
            } else {
                #expect(model.encoder.pooler(states) == nil)
            }
        }
    }

    /// The fixtures cover what they claim to: both activations, both dtypes, both name layouts, padding.
    @Test func fixturesCoverTheVariants() throws {
        let gelu = try EncoderFixtures.model("tiny-bert")
        let relu = try EncoderFixtures.model("tiny-bert-relu-f16")
        #expect(gelu.encoder.activation == .gelu && relu.encoder.activation == .relu)
        #expect(gelu.config.layerNormEps == 1e-12 && relu.config.layerNormEps == 1e-5)
        #expect(gelu.encoder.weights.pooler != nil && relu.encoder.weights.pooler == nil)
        let cases = try EncoderFixtures.parity().models[0].cases
        #expect(cases.contains { $0.attentionMask.contains { $0.contains(0) } }, "a padded batch")
        #expect(cases.contains { $0.typeIds.contains { $0.contains(1) } }, "a pair")
        #expect(cases.contains { $0.ids[0].count == gelu.config.maxPositions }, "a sequence at the position limit")
    }
}
