import Foundation
import QuiverStore
import Testing

@testable import QuiverModel

/// The training loop on a model whose gradient is written by hand (`BagOfEmbeddingsClassifier`).
struct TrainerTests {
    let tokenizer: BertTokenizer

    init() throws { tokenizer = try TrainerFixtures.tokenizer() }

    func model() -> BagOfEmbeddingsClassifier {
        BagOfEmbeddingsClassifier(vocabularySize: tokenizer.vocabulary.count, dimension: 32, labels: 2)
    }

    func sets(devFlipped: Bool = false) throws -> (TrainingSet, TrainingSet) {
        let train = try TrainerFixtures.set(TrainerFixtures.sentimentJSONL(count: 64, seed: 1), source: "train.jsonl", tokenizer: tokenizer)
        let dev = try TrainerFixtures.set(
            TrainerFixtures.sentimentJSONL(count: 32, seed: 2, flip: devFlipped), source: "dev.jsonl", labels: train.labelNames,
            tokenizer: tokenizer)
        return (train, dev)
    }

    @Test func learnsASeparableTask() throws {
        let (train, dev) = try sets()
        let model = model()
        let trainer = Trainer(model: model, options: TrainingOptions(epochs: 8, learningRate: 0.1, batchSize: 8))
        let before = try trainer.evaluate(dev)
        let report = try trainer.train(train, dev: dev)
        #expect(report.epochs.count == 8)
        #expect(report.steps == 8 * 8)
        #expect(report.epochs.last!.trainLoss < report.epochs.first!.trainLoss)
        // The sentiment word is one of six tokens in each mean embedding, beside random filler words: a linear
        // model over frozen random embeddings gets most of the unseen sentences right, not all (0.875 here).
        #expect(report.best.devAccuracy! >= 0.8, "dev accuracy \(report.best.devAccuracy ?? -1), before training \(before.accuracy)")
        #expect(report.best.devMacroF1! >= 0.8)
        #expect(try trainer.evaluate(dev).accuracy == report.best.devAccuracy)
    }

    @Test func sameSeedSameWeightsBitForBit() throws {
        let (train, dev) = try sets()
        func run(seed: UInt64) throws -> ([UInt32], [Double]) {
            let model = model()
            let report = try Trainer(model: model, options: TrainingOptions(epochs: 2, learningRate: 0.05, batchSize: 8, seed: seed, weightDecay: 0.01))
                .train(train, dev: dev)
            return (model.parameters.flatMap { $0.value.array.map(\.bitPattern) }, report.epochs.map(\.trainLoss))
        }
        let (first, firstLosses) = try run(seed: 42)
        let (second, secondLosses) = try run(seed: 42)
        let (other, _) = try run(seed: 43)
        #expect(first == second)
        #expect(firstLosses == secondLosses)
        #expect(first != other, "another seed gives another batch order and dropout")
    }

    /// With evaluation data that contradicts the training data, every epoch scores 0 on it: the earliest
    /// epoch is the best, and its weights — not the last epoch's — are what the model holds at the end.
    @Test func keepsTheBestEpochsWeights() throws {
        let (train, dev) = try sets(devFlipped: true)
        let model = model()
        var snapshots: [Int: [Float]] = [:]
        let report = try Trainer(model: model, options: TrainingOptions(epochs: 3, learningRate: 0.1, batchSize: 8))
            .train(train, dev: dev) { event in
                if case .epochFinished(let record, _) = event {
                    snapshots[record.epoch] = model.parameters.flatMap(\.value.array)
                }
            }
        #expect(report.bestEpoch == 1, "epochs: \(report.epochs)")
        #expect(model.parameters.flatMap(\.value.array) == snapshots[1])
        #expect(snapshots[1] != snapshots[3])
    }

    @Test func withoutEvaluationDataTheLastEpochIsKept() throws {
        let (train, _) = try sets()
        let model = model()
        let report = try Trainer(model: model, options: TrainingOptions(epochs: 2, learningRate: 0.1, batchSize: 16)).train(train)
        #expect(report.bestEpoch == 2)
        #expect(report.epochs.allSatisfy { $0.devAccuracy == nil && $0.devMacroF1 == nil })
    }

    @Test func bestIsByMacroF1ThenAccuracy() {
        let a = EpochRecord(epoch: 1, trainLoss: 0, examplesPerSecond: 0, seconds: 0, devAccuracy: 0.9, devMacroF1: 0.5)
        let b = EpochRecord(epoch: 2, trainLoss: 0, examplesPerSecond: 0, seconds: 0, devAccuracy: 0.6, devMacroF1: 0.6)
        let c = EpochRecord(epoch: 3, trainLoss: 0, examplesPerSecond: 0, seconds: 0, devAccuracy: 0.7, devMacroF1: 0.6)
        #expect(b.scoresAbove(a))
        #expect(c.scoresAbove(b))
        #expect(!b.scoresAbove(c))
        #expect(!c.scoresAbove(c), "an equal epoch does not replace the earlier one")
    }

    @Test func reportsProgress() throws {
        let (train, dev) = try sets()
        var steps: [TrainingProgress] = []
        var finished: [Int] = []
        var evaluations = 0
        let trainer = Trainer(model: model(), options: TrainingOptions(epochs: 2, learningRate: 0.1, batchSize: 8, warmupRatio: 0.1))
        trainer.progressInterval = 0  // every step
        _ = try trainer.train(train, dev: dev) { event in
            switch event {
            case .step(let progress): steps.append(progress)
            case .evaluating: evaluations += 1
            case .epochFinished(let record, _): finished.append(record.epoch)
            }
        }
        #expect(steps.count == 16)
        #expect(steps.map(\.completedSteps) == Array(1...16))
        #expect(steps.last!.secondsLeft == 0)
        #expect(steps.allSatisfy { $0.totalSteps == 16 && $0.stepsPerEpoch == 8 && $0.loss.isFinite })
        // Warm-up is ceil(10% of 16) = 2 steps: rates 0, peak/2, then peak decaying.
        #expect(steps[0].learningRate == 0)
        #expect(steps[1].learningRate == 0.05)
        #expect(steps[2].learningRate == 0.1)
        #expect(evaluations == 2)
        #expect(finished == [1, 2])
    }

    @Test func divergenceIsAnError() throws {
        let (train, _) = try sets()
        let model = model()
        model.forcedLoss = .nan
        #expect {
            _ = try Trainer(model: model, options: TrainingOptions(epochs: 1)).train(train)
        } throws: { error in
            "\(error)".contains("training diverged") && "\(error)".contains("--lr")
        }
    }

    @Test(arguments: [
        (TrainingOptions(epochs: 0), "epochs must be at least 1"),
        (TrainingOptions(learningRate: 0), "learning rate must be positive"),
        (TrainingOptions(batchSize: 0), "batch size must be at least 1"),
        (TrainingOptions(maxLength: 1), "max length must be at least 2"),
        (TrainingOptions(weightDecay: -1), "weight decay must not be negative"),
        (TrainingOptions(warmupRatio: 1.5), "warm-up ratio must be between 0 and 1"),
    ])
    func badOptionsAreRefused(options: TrainingOptions, message: String) throws {
        #expect {
            try options.validate()
        } throws: { error in
            (error as? QuiverError)?.message.contains(message) == true
        }
    }

    @Test func unknownDevLabelNamesItsLine() throws {
        let train = try TrainerFixtures.set(TrainerFixtures.sentimentJSONL(count: 8, seed: 1), source: "train.jsonl", tokenizer: tokenizer)
        let bytes = Array("{\"text\": \"great\", \"label\": \"positive\"}\n{\"text\": \"meh\", \"label\": \"neutral\"}\n".utf8)
        #expect {
            _ = try TrainerFixtures.set(bytes, source: "dev.jsonl", labels: train.labelNames, tokenizer: tokenizer)
        } throws: { error in
            "\(error)".contains("dev.jsonl:2") && "\(error)".contains("neutral")
        }
    }
}

/// The loop on the real backward passes (`TrainableTask`), not only on the hand-written model.
struct TrainerOnTrainableTaskTests {
    /// Six positives to two negatives: whatever the frozen random base makes of the texts, the adapter and head
    /// learn at least the label prior, so the training loss falls from about ln 2 (0.693) towards the prior's
    /// entropy (0.562) — the gradients reach the parameters the forward pass reads, through AdamW.
    @Test func drivesTheLossOfARealModelDown() throws {
        let base = AdapterFixtures.shared.base
        let rows = (0..<8).map { index in
            "{\"text\": \"\(["the film", "a story", "this movie", "the show"][index % 4]) \(index)\", \"label\": \"\(index % 4 == 3 ? "negative" : "positive")\"}"
        }
        let dataset = try Dataset(bytes: Array(rows.joined(separator: "\n").utf8), source: "skew.jsonl")
        let set = try TrainingSet(dataset: dataset, labels: dataset.labels, tokenizer: base.tokenizer, maxLength: 16, task: "t")
        let model = try TrainableTask.bottleneck(
            name: "t", config: try #require(BottleneckConfig.preset("seq_bn")), labels: dataset.labels, base: base.encoder,
            baseName: base.name, seed: 3)
        let options = TrainingOptions(epochs: 20, learningRate: 1e-2, batchSize: 8, maxLength: 16, warmupRatio: 0, dropout: false)
        let report = try Trainer(model: model, options: options).train(set)
        #expect(report.epochs.first!.trainLoss > 0.64, "\(report.epochs.map(\.trainLoss))")
        #expect(report.epochs.last!.trainLoss < 0.6, "\(report.epochs.map(\.trainLoss))")
    }
}
