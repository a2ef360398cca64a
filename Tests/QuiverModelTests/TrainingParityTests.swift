import Foundation
import QuiverStore
import QuiverTensor
import Testing
@testable import QuiverModel

/// Whole training runs against the `adapters` library's trainer (`AdapterTrainer`), from
/// `scripts/fixtures/make_training_fixtures.py`: the library's initial weights, dropout off on both sides, the
/// batches its trainer fed in the same order, then 60 `TrainingSteps` (warm-up, linear decay, clipping acting on
/// every step, weight decay for LoRA, the fusion's value regularisation) — every trainable tensor after 1, 10 and
/// 60 steps within `tolerance` of the reference, relative to the tensor's largest value; and at every step the
/// loss, the gradient norm and the rate the library's trainer logged.
///
/// One exception: the fusion key's bias. Its gradient is analytically zero (a softmax does not change when all its
/// scores move together), so both sides hold rounding noise there, which AdamW divides by its own size into steps of
/// the full rate: its values drift apart without meaning anything. Their effect is nil, and the loss matches.
@Suite struct TrainingParityTests {
    struct Case: Decodable, Sendable {
        struct Log: Decodable, Sendable {
            let loss: Double
            let grad_norm: Double
            let learning_rate: Double
        }

        let name: String
        let kind: String
        let dir: String?
        let member_dirs: [String]?
        let fusion_dir: String?
        let learning_rate: Float
        let weight_decay: Float
        let max_grad_norm: Double
        let warmup_ratio: Double
        let steps: Int
        let snapshots: [Int]
        let log: [Log]
        let trainable: [String]
    }

    struct Index: Decodable, Sendable {
        let cases: [Case]
    }

    static let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("training")
    static let index: Index = try! JSONDecoder().decode(Index.self, from: Data(contentsOf: root.appendingPathComponent("cases.json")))
    static let tolerance: Float = 1e-5

    static func files(_ relative: String) throws -> [String: [UInt8]] {
        try TaskModel.folderFiles(root.appendingPathComponent(relative).path)
    }

    /// The case's initial folders, as saved by the library.
    static func model(_ testCase: Case) throws -> TrainableTask {
        let base = AdapterFixtures.shared.base.encoder
        if testCase.kind == "fusion" {
            return try TrainableTask.loadingFusion(
                files: try files(testCase.fusion_dir!), members: try testCase.member_dirs!.map { try files($0) },
                source: testCase.fusion_dir!, base: base, unfreezeMembers: false)
        }
        return try TrainableTask.loading(files: try files(testCase.dir!), source: testCase.dir!, base: base)
    }

    static func analyticallyZero(_ tensor: String) -> Bool { tensor.contains("adapter_fusion_layer") && tensor.hasSuffix(".key.bias") }

    /// The batch the library's trainer fed at `step` (1-based).
    static func batch(_ step: Int, in steps: SafetensorsFile) throws -> TrainingBatch {
        func ints(_ key: String) throws -> [Int32] { try steps.integers("batch.\(step).\(key)").map { Int32($0) } }
        let shape = try steps.info("batch.\(step).input_ids").shape
        let input = try EncoderInput(
            batch: shape[0], sequenceLength: shape[1], ids: try ints("input_ids"), typeIds: try ints("token_type_ids"),
            attentionMask: try ints("attention_mask"))
        return TrainingBatch(input: input, labels: try ints("labels").map(Int.init))
    }

    @Test(arguments: ["seq_bn", "double_seq_bn", "lora", "fusion3"])
    func sixtyStepsLandWhereTheLibrarysTrainerLands(_ name: String) throws {
        let testCase = try #require(Self.index.cases.first { $0.name == name })
        let model = try Self.model(testCase)
        let recorded = try SafetensorsFile(path: Self.root.appendingPathComponent(name + "/steps.safetensors").path)
        let names = Set(model.parameters.flatMap { [$0.name] + $0.aliases })
        #expect(names == Set(testCase.trainable), "trainable: \(names.symmetricDifference(testCase.trainable).sorted())")

        let options = TrainingOptions(
            learningRate: testCase.learning_rate, weightDecay: testCase.weight_decay, warmupRatio: testCase.warmup_ratio,
            maxGradientNorm: testCase.max_grad_norm, dropout: false)
        let steps = TrainingSteps(model: model, options: options, totalSteps: testCase.steps)
        var random = SeededGenerator(seed: 1)
        for step in 1...testCase.steps {
            let outcome = try steps.step(try Self.batch(step, in: recorded), random: &random)
            let log = testCase.log[step - 1]
            // The trainer logs the loss rounded to 4 decimals, the norm before clipping and the rate of the step.
            #expect(abs(Double(outcome.loss) - log.loss) <= 6e-5, "\(name) step \(step): loss \(outcome.loss), logged \(log.loss)")
            #expect(abs(outcome.gradientNorm - log.grad_norm) <= 1e-4 * log.grad_norm, "\(name) step \(step): norm \(outcome.gradientNorm), logged \(log.grad_norm)")
            #expect(abs(Double(outcome.learningRate) - log.learning_rate) <= 1e-6 * Double(testCase.learning_rate), "\(name) step \(step): rate \(outcome.learningRate), logged \(log.learning_rate)")
            guard testCase.snapshots.contains(step) else { continue }
            for parameter in model.parameters {
                for tensor in [parameter.name] + parameter.aliases where !Self.analyticallyZero(tensor) {
                    expectClose(
                        parameter.value.array, try recorded.floats("after.\(step).\(tensor)"), relative: Self.tolerance,
                        "\(name) after step \(step): \(tensor)")
                }
            }
        }
    }
}

/// Dropout, which no test can make draw the same masks as torch: the distribution of the loss of one batch over
/// 1,000 independent masks (the base's dropout 0.1 after embeddings, attention probabilities and every sublayer,
/// the head's before each of its linear layers), Quiver's against the `adapters` library's, same weights.
///
/// Three tests at α = 0.001 each: Welch's t on the means (with 1,000 samples a side it detects a shift of 0.19 σ
/// with power 0.8), the two-sample Kolmogorov–Smirnov statistic (any difference of shape; D > 0.087), and the ratio
/// of the standard deviations (its log, with a standard error from both samples' kurtosis; a missing or doubled
/// dropout layer moves it by far more than the 5–10 % the test resolves).
@Suite struct DropoutDistributionTests {
    struct Measurement: Decodable {
        let dir: String
        let samples: Int
        let loss_without_dropout: Double
        let mean: Double
        let std: Double
    }

    struct Index: Decodable { let dropout: Measurement }

    @Test func lossUnderDropoutIsDistributedAsTheLibrarys() throws {
        let root = TrainingParityTests.root
        let measurement = try JSONDecoder().decode(Index.self, from: Data(contentsOf: root.appendingPathComponent("cases.json"))).dropout
        let recorded = try SafetensorsFile(path: root.appendingPathComponent("dropout.safetensors").path)
        let reference = try recorded.floats("losses").map(Double.init)
        let model = try TrainableTask.loading(
            files: try TrainingParityTests.files(measurement.dir), source: measurement.dir, base: AdapterFixtures.shared.base.encoder)
        func ints(_ key: String) throws -> [Int32] { try recorded.integers("batch.\(key)").map { Int32($0) } }
        let shape = try recorded.info("batch.input_ids").shape
        let batch = TrainingBatch(
            input: try EncoderInput(
                batch: shape[0], sequenceLength: shape[1], ids: try ints("input_ids"), typeIds: try ints("token_type_ids"),
                attentionMask: try ints("attention_mask")),
            labels: try ints("labels").map(Int.init))

        var random = SeededGenerator(seed: 2024)
        let plain = try model.forwardLoss(batch, dropout: false, random: &random)
        #expect(abs(plain - measurement.loss_without_dropout) <= 1e-5 * measurement.loss_without_dropout, "without dropout: \(plain)")
        let ours = try (0..<measurement.samples).map { _ in try model.forwardLoss(batch, dropout: true, random: &random) }

        let (a, b) = (Sample(ours), Sample(reference))
        let t = (a.mean - b.mean) / (a.variance / Double(a.count) + b.variance / Double(b.count)).squareRoot()
        let d = Sample.kolmogorovSmirnov(ours, reference)
        let dCritical = 1.949 * (Double(a.count + b.count) / Double(a.count * b.count)).squareRoot()
        // Var(ln s²) ≈ (2 + excess kurtosis) / n for each sample.
        let logRatio = Foundation.log(a.variance / b.variance) / 2
        let logRatioError = ((2 + a.excessKurtosis) / Double(a.count) + (2 + b.excessKurtosis) / Double(b.count)).squareRoot() / 2
        let summary = "Quiver \(a.mean) ± \(a.variance.squareRoot()), adapters \(b.mean) ± \(b.variance.squareRoot())"
        #expect(abs(t) < 3.29, "means differ: t = \(t); \(summary)")
        #expect(d < dCritical, "distributions differ: D = \(d) > \(dCritical); \(summary)")
        #expect(abs(logRatio) < 3.29 * logRatioError, "spreads differ: ln(σ/σ') = \(logRatio) ± \(logRatioError); \(summary)")
    }

    /// Mean, unbiased variance and excess kurtosis.
    struct Sample {
        let count: Int
        let mean: Double
        let variance: Double
        let excessKurtosis: Double

        init(_ values: [Double]) {
            count = values.count
            let mean = values.reduce(0, +) / Double(count)
            let squares = values.map { ($0 - mean) * ($0 - mean) }
            self.mean = mean
            variance = squares.reduce(0, +) / Double(count - 1)
            let fourth = squares.map { $0 * $0 }.reduce(0, +) / Double(count)
            let second = squares.reduce(0, +) / Double(count)
            excessKurtosis = fourth / (second * second) - 3
        }

        /// The largest distance between the two empirical distribution functions.
        static func kolmogorovSmirnov(_ x: [Double], _ y: [Double]) -> Double {
            let (xs, ys) = (x.sorted(), y.sorted())
            var (i, j, distance) = (0, 0, 0.0)
            while i < xs.count, j < ys.count {
                let value = min(xs[i], ys[j])
                while i < xs.count, xs[i] <= value { i += 1 }
                while j < ys.count, ys[j] <= value { j += 1 }
                distance = max(distance, abs(Double(i) / Double(xs.count) - Double(j) / Double(ys.count)))
            }
            return distance
        }
    }
}
