import Foundation
import Testing

@testable import QuiverModel

/// all-MiniLM-L6-v2 (see `MiniLM`) against the embeddings `transformers` computed for `Fixtures/encoder/minilm.json`.
@Suite(.enabled(if: MiniLM.runs, "all-MiniLM-L6-v2 not found (make test fetches it)"))
struct EncoderIntegrationTests {
    static let tolerance: Float = 1e-4

    @Test func miniLMEmbeddingsMatchTransformers() throws {
        let folder = try MiniLM.requiredFolder()
        let model = try BaseModel(folder: folder)
        let expected = try EncoderFixtures.decode(MiniLMExpected.self, "minilm.json")
        let batch = model.tokenizer.encodeBatch(expected.texts, maxLength: expected.maxLength)
        #expect(batch.ids == expected.ids.flatMap { $0 })
        for threads in [1, 2] {
            let states = try model.encoder.forward(EncoderInput(batch), threads: threads)
            for (pooling, reference) in [(EmbeddingPooling.cls, expected.cls), (.mean, expected.mean)] {
                let pooled = states.pooled(pooling)
                for item in reference.indices {
                    let difference = floatDifference(pooled[item], reference[item], tolerance: Self.tolerance)
                    #expect(difference == nil, "\(pooling) of text \(item), \(threads) threads: \(difference ?? "")")
                }
            }
            let firstTokens = (0..<expected.firstTokenHiddenOfText0.count).flatMap {
                Array(states.vector(item: 0, position: $0))
            }
            let difference = floatDifference(
                firstTokens, expected.firstTokenHiddenOfText0.flatMap { $0 }, tolerance: Self.tolerance,
                width: model.config.hiddenSize)
            #expect(difference == nil, "hidden states of text 0: \(difference ?? "")")
        }
    }
}
