import Foundation
import QuiverStore

@testable import QuiverModel

/// A `TrainableModel` small enough to check by hand: logistic regression over the mean of frozen random
/// token embeddings, `logits = W · mean(E[ids]) + b`, with inverted dropout (p = 0.1) on the mean in
/// training steps. Its gradient is `∂L/∂W = (softmax − onehot)ᵀ · x / B`, `∂L/∂b = Σ (softmax − onehot) / B`.
final class BagOfEmbeddingsClassifier: TrainableModel {
    let dimension: Int
    let labelCount: Int
    let embeddings: [Float]
    let weight: Parameter
    let bias: Parameter
    /// A loss to return instead of the real one (to test divergence).
    var forcedLoss: Float?
    private(set) var stepCount = 0

    init(vocabularySize: Int, dimension: Int = 8, labels: Int, seed: UInt64 = 7) {
        var random = SeededGenerator(seed: seed)
        self.dimension = dimension
        labelCount = labels
        embeddings = random.normal(count: vocabularySize * dimension, standardDeviation: 1)
        weight = Parameter(name: "head.weight", shape: [labels, dimension], value: FloatBuffer(count: labels * dimension), decays: true)
        bias = Parameter(name: "head.bias", shape: [labels], value: FloatBuffer(count: labels), decays: false)
    }

    var parameters: [Parameter] { [weight, bias] }

    /// x is (batch, dimension): the mean embedding of each item's tokens.
    func features(_ input: EncoderInput) -> [[Float]] {
        (0..<input.batch).map { item in
            var sum = [Float](repeating: 0, count: dimension)
            var count: Float = 0
            for position in 0..<input.sequenceLength where input.attentionMask[item * input.sequenceLength + position] != 0 {
                let id = Int(input.ids[item * input.sequenceLength + position])
                for d in 0..<dimension { sum[d] += embeddings[id * dimension + d] }
                count += 1
            }
            return sum.map { $0 / max(count, 1) }
        }
    }

    func logits(of x: [[Float]]) -> [[Float]] {
        x.map { row in
            (0..<labelCount).map { label in
                var value = bias.value.pointer[label]
                for d in 0..<dimension { value += weight.value.pointer[label * dimension + d] * row[d] }
                return value
            }
        }
    }

    func logits(_ input: EncoderInput) throws -> [[Float]] { logits(of: features(input)) }

    func trainStep(_ batch: TrainingBatch, dropout: Bool, random: inout SeededGenerator) throws -> (loss: Float, logits: [[Float]]) {
        stepCount += 1
        var x = features(batch.input)
        if dropout {
            for item in x.indices {
                for d in 0..<dimension { x[item][d] = random.nextUnit() < 0.1 ? 0 : x[item][d] / 0.9 }
            }
        }
        let logits = logits(of: x)
        var loss: Float = 0
        let scale = 1 / Float(batch.labels.count)
        for (item, row) in logits.enumerated() {
            let top = row.max()!
            let exps = row.map { Foundation.exp($0 - top) }
            let total = exps.reduce(0, +)
            loss -= Foundation.log(exps[batch.labels[item]] / total) * scale
            for label in 0..<labelCount {
                let d = (exps[label] / total - (label == batch.labels[item] ? 1 : 0)) * scale
                bias.gradient.pointer[label] += d
                for k in 0..<dimension { weight.gradient.pointer[label * dimension + k] += d * x[item][k] }
            }
        }
        return (forcedLoss ?? loss, logits)
    }

    func exportFiles() throws -> [String: [UInt8]] {
        ["weights.json": Array("\(weight.value.array)\(bias.value.array)".utf8)]
    }
}

enum TrainerFixtures {
    static let words = ["great", "excellent", "love", "happy", "terrible", "bad", "boring", "hate", "the", "movie", "film", "story", "was", "a"]

    static func tokenizer() throws -> BertTokenizer {
        let tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words
        return try BertTokenizer(vocabulary: Vocabulary(tokens: tokens))
    }

    /// JSON Lines of `count` sentences: positive ones use a positive word, negative ones a negative word;
    /// `flip` swaps the labels.
    static func sentimentJSONL(count: Int, seed: UInt64, flip: Bool = false) -> [UInt8] {
        var random = SeededGenerator(seed: seed)
        let positive = ["great", "excellent", "love", "happy"], negative = ["terrible", "bad", "boring", "hate"]
        let fillers = ["the", "movie", "film", "story", "was", "a"]
        var lines: [String] = []
        for index in 0..<count {
            let isPositive = index % 2 == 0
            let pool = isPositive ? positive : negative
            let word = pool[Int(random.next() % UInt64(pool.count))]
            var sentence = (0..<3).map { _ in fillers[Int(random.next() % UInt64(fillers.count))] }
            sentence.insert(word, at: Int(random.next() % 4))
            let label = isPositive != flip ? "positive" : "negative"
            lines.append("{\"text\": \"\(sentence.joined(separator: " "))\", \"label\": \"\(label)\"}")
        }
        return Array((lines.joined(separator: "\n") + "\n").utf8)
    }

    static func set(_ bytes: [UInt8], source: String, labels: [String]? = nil, tokenizer: BertTokenizer) throws -> TrainingSet {
        let dataset = try Dataset(bytes: bytes, source: source)
        return try TrainingSet(dataset: dataset, labels: labels ?? dataset.labels, tokenizer: tokenizer, maxLength: 16, task: "test")
    }
}
