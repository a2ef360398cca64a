import Foundation
import QuiverStore
import QuiverTensor
import Testing
@testable import QuiverModel

/// Dropout masks, slicing and threads, determinism and bad input.
@Suite struct TrainingStepTests {
    static let base = AdapterFixtures.shared.base
    static let batch = TrainingBatch(input: AdapterFixtures.shared.input, labels: [0, 2, 1, 1])

    static func model(threads: Int) throws -> TrainableTask {
        let model = try TrainableTask.bottleneck(
            name: "t", config: try #require(BottleneckConfig.preset("double_seq_bn")), reductionFactor: 4,
            labels: ["a", "b", "c"], base: base.encoder, baseName: "tiny", seed: 1)
        model.threads = threads
        model.dropout.adapter = 0.1
        BackwardFiniteDifferenceTests.randomize(model, seed: 2)
        return model
    }

    @Test func dropoutMasksArePureFunctionsOfSeedSiteAndIndex() throws {
        let mask = try #require(DropoutMask(seed: 5, site: .embeddings, probability: 0.25))
        let again = try #require(DropoutMask(seed: 5, site: .embeddings, probability: 0.25))
        let other = try #require(DropoutMask(seed: 5, site: .head(layer: 0), probability: 0.25))
        let count = 100_000
        let kept = (0..<count).filter { mask.keeps($0) }
        #expect(kept == (0..<count).filter { again.keeps($0) })
        #expect(kept != (0..<count).filter { other.keeps($0) })
        #expect(abs(Double(kept.count) / Double(count) - 0.75) < 0.01)
        var values = [Float](repeating: 1, count: 8)
        values.withUnsafeMutableBufferPointer { mask.apply($0.baseAddress!, count: 8, firstIndex: 0) }
        #expect(values == (0..<8).map { mask.keeps($0) ? Float(1) / 0.75 : 0 })
        #expect(DropoutMask(seed: 5, site: .embeddings, probability: 0) == nil)
    }

    /// One thread (one slice) or two (two slices) give the same loss and gradients, dropout included: masks are
    /// indexed by position in the batch.
    @Test func slicesGiveTheSameStepAsOneThread() throws {
        var results: [(Float, [[Float]])] = []
        for threads in [1, 2] {
            let model = try Self.model(threads: threads)
            var random = SeededGenerator(seed: 3)
            let (loss, _) = try model.trainStep(Self.batch, dropout: true, random: &random)
            results.append((loss, model.parameters.map(\.gradient.array)))
        }
        expectClose([results[1].0], [results[0].0], relative: 1e-6, "loss")
        #expect(results[1].1.count == results[0].1.count && !results[0].1.isEmpty)
        for (index, (two, one)) in zip(results[1].1, results[0].1).enumerated() {
            expectClose(two, one, relative: 1e-5, "parameter \(index)")
        }
    }

    /// A seeded run is repeatable bit for bit.
    @Test func stepsAreRepeatable() throws {
        var runs: [[[Float]]] = []
        for _ in 0..<2 {
            let model = try Self.model(threads: 2)
            var random = SeededGenerator(seed: 4)
            for _ in 0..<2 { _ = try model.trainStep(Self.batch, dropout: true, random: &random) }
            runs.append(model.parameters.map(\.gradient.array))
        }
        #expect(runs[0] == runs[1])
    }

    @Test func dropoutChangesTheLossAndEvaluationDoesNot() throws {
        let model = try Self.model(threads: 1)
        var random = SeededGenerator(seed: 5)
        let plain = try model.trainStep(Self.batch, dropout: false, random: &random)
        let dropped = try model.trainStep(Self.batch, dropout: true, random: &random)
        #expect(plain.loss != dropped.loss)
        expectClose(try model.logits(Self.batch.input).flatMap { $0 }, plain.logits.flatMap { $0 }, relative: 1e-6, "logits")
    }

    @Test func dropoutProbabilitiesComeFromTheConfigs() throws {
        let model = try TrainableTask.bottleneck(
            name: "t", config: try #require(BottleneckConfig.preset("seq_bn")), labels: ["a", "b"],
            base: Self.base.encoder, baseName: "tiny", seed: 1)
        #expect(model.dropout == DropoutProbabilities(hidden: 0.1, attention: 0.1, adapter: 0, lora: 0, head: 0.1, fusion: 0.1))
    }

    @Test func badInputIsAnError() throws {
        let model = try Self.model(threads: 1)
        var random = SeededGenerator(seed: 6)
        #expect(throws: QuiverError.self) {
            try model.trainStep(TrainingBatch(input: Self.batch.input, labels: [0, 1]), dropout: false, random: &random)
        }
        #expect(throws: QuiverError.self) {
            try model.trainStep(TrainingBatch(input: Self.batch.input, labels: [0, 1, 2, 3]), dropout: false, random: &random)
        }
        let bad = try EncoderInput(batch: 1, sequenceLength: 2, ids: [1, 5000])
        #expect(throws: QuiverError.self) { try model.logits(bad) }
    }
}
