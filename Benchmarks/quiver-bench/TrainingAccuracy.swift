// quiver-bench training --accuracy: where whole training runs land, Quiver's against the `adapters` library's, on a
// task of real sentences that neither side solves perfectly — which of four licenses (GPL-3, LGPL-2.1, MPL-2.0,
// GFDL-1.3, from Debian's /usr/share/common-licenses) a sentence comes from; 96 training and 68 held-out
// sentences. Each side trains a new seq_bn adapter (reduction factor 16) and 2-layer head with the same recipe —
// AdamW, learning rate 1e-3, 10 % warm-up then linear decay, clipping at 1, batches of 16, 10 epochs, dropout on —
// once per seed, and scores the held-out sentences. Quiver runs what `quiver train` runs (`Trainer` on a
// `TrainingSet` of the same JSON Lines files); the library runs scripts/bench/accuracy_torch.py (`AdapterTrainer`).
import Foundation
import QuiverModel
import QuiverStore
import QuiverTensor

/// The sentences of four license texts, split and drawn reproducibly.
enum LicenseSentences {
    static let folder = "/usr/share/common-licenses"
    static let licenses = ["GPL-3", "LGPL-2.1", "MPL-2.0", "GFDL-1.3"]
    static let trainPerLicense = 24
    static let testPerLicense = 17

    /// JSON Lines training and held-out files in `folder`; returns their paths.
    static func write(to scratch: String) throws -> (train: String, test: String) {
        var train: [(String, String)] = [], test: [(String, String)] = []
        var random = SeededGenerator(seed: 17)
        for license in licenses {
            guard let text = try? String(contentsOfFile: folder + "/" + license, encoding: .utf8) else {
                throw BenchError("--accuracy needs \(folder)/\(license) (Debian's base-files)")
            }
            let unique = Array(Set(self.sentences(text))).sorted()
            guard unique.count >= trainPerLicense + testPerLicense else {
                throw BenchError("\(license) has \(unique.count) usable sentences, fewer than \(trainPerLicense + testPerLicense)")
            }
            let sentences = Dataset.shuffled(unique, using: &random)
            train += sentences.prefix(trainPerLicense).map { ($0, license) }
            test += sentences.dropFirst(trainPerLicense).prefix(testPerLicense).map { ($0, license) }
        }
        train = Dataset.shuffled(train, using: &random)
        let paths = (train: scratch + "/licenses-train.jsonl", test: scratch + "/licenses-test.jsonl")
        try jsonLines(train).write(toFile: paths.train, atomically: true, encoding: .utf8)
        try jsonLines(test).write(toFile: paths.test, atomically: true, encoding: .utf8)
        return paths
    }

    /// Sentences of 8 to 40 words: white space collapsed, split after `.`, `;` or `:` that end a word.
    static func sentences(_ text: String) -> [String] {
        let words = text.split(whereSeparator: \.isWhitespace)
        var sentences: [String] = [], current: [Substring] = []
        for word in words {
            current.append(word)
            if let last = word.last, ".;:".contains(last), word.count > 2 {
                if (8...40).contains(current.count) { sentences.append(current.joined(separator: " ")) }
                current = []
            }
        }
        return sentences
    }

    private static func jsonLines(_ rows: [(text: String, label: String)]) -> String {
        rows.map { JSONWriter.serialize(.object([(key: "text", value: .string($0.text)), (key: "label", value: .string($0.label))])) }
            .joined(separator: "\n") + "\n"
    }
}

func runAccuracyComparison(base: BaseModel, python: String?, model: String, scratch: String, seeds: Int, epochs: Int) throws {
    let files = try LicenseSentences.write(to: scratch)
    let trainData = try Dataset.load(path: files.train), testData = try Dataset.load(path: files.test)
    let labels = trainData.labels.sorted()
    let trainSet = try TrainingSet(dataset: trainData, labels: labels, tokenizer: base.tokenizer, maxLength: 128, task: "licenses")
    let testSet = try TrainingSet(dataset: testData, labels: labels, tokenizer: base.tokenizer, maxLength: 128, task: "licenses")
    let learningRate: Float = 1e-3
    print("# which of \(labels.count) licenses a sentence comes from (\(LicenseSentences.licenses.joined(separator: ", "))): \(trainSet.count) training, \(testSet.count) held-out sentences")
    print("# seq_bn (reduction 16) + 2-layer head, \(epochs) epochs, batch 16, AdamW lr \(learningRate), warm-up 10 %, clip 1, dropout on; seeds 1…\(seeds)")

    var quiver: [Double] = [], seconds = 0.0
    for seed in 1...seeds {
        guard let config = BottleneckConfig.preset("seq_bn") else { throw BenchError("no seq_bn preset") }
        let model = try TrainableTask.bottleneck(
            name: "licenses", config: config, reductionFactor: 16, labels: labels, base: base.encoder, baseName: base.name,
            seed: UInt64(seed))
        let options = TrainingOptions(
            epochs: epochs, learningRate: learningRate, batchSize: 16, maxLength: 128, seed: UInt64(seed), weightDecay: 0,
            warmupRatio: 0.1, maxGradientNorm: 1)
        seconds += try Measure.seconds { _ = try Trainer(model: model, options: options).train(trainSet) }
        quiver.append(try Trainer.evaluate(model, on: testSet).accuracy)
        FileHandle.standardError.write(Data("  quiver seed \(seed): \(Measure.format(quiver.last!, 4))\n".utf8))
    }
    var library: [Double] = [], versions = ""
    if let python {
        guard let script = benchScriptPath("scripts/bench/accuracy_torch.py") else {
            throw BenchError("cannot find scripts/bench/accuracy_torch.py (run from the package root)")
        }
        let output = try runPeer(python, [
            script, "--model", model, "--train", files.train, "--test", files.test, "--seeds", (1...seeds).map(String.init).joined(separator: ","),
            "--epochs", "\(epochs)", "--lr", "\(learningRate)", "--threads", "\(Parallel.availableCores)", "--output", scratch + "/trainer",
        ])
        for line in output.split(separator: "\n") {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else { continue }
            if let accuracy = object["accuracy"] as? Double { library.append(accuracy) }
            if let torch = object["torch"] as? String {
                versions = "torch \(torch), transformers \(object["transformers"] ?? "?"), adapters \(object["adapters"] ?? "?")"
            }
        }
        guard library.count == seeds else { throw BenchError("accuracy_torch.py gave \(library.count) accuracies for \(seeds) seeds") }
    }

    print("seed  Quiver  adapters")
    for seed in 0..<seeds {
        print(String(format: "%4d  %.4f  %@", seed + 1, quiver[seed], library.isEmpty ? "—" : String(format: "%.4f", library[seed])))
    }
    let (q, l) = (Summary(quiver), Summary(library))
    print("Quiver:   held-out accuracy \(Measure.format(q.mean, 4)) ± \(Measure.format(q.deviation, 4)) (mean ± sd of \(seeds) seeds), \(Measure.format(Double(epochs * trainSet.count * seeds) / seconds, 1)) examples/s")
    guard !library.isEmpty else { return }
    print("adapters: held-out accuracy \(Measure.format(l.mean, 4)) ± \(Measure.format(l.deviation, 4)) (\(versions))")
    let standardError = (q.deviation * q.deviation / Double(q.count) + l.deviation * l.deviation / Double(l.count)).squareRoot()
    let t = standardError > 0 ? (q.mean - l.mean) / standardError : 0
    let ahead = zip(quiver, library).filter { $0 > $1 }.count, behind = zip(quiver, library).filter { $0 < $1 }.count
    print("difference \(Measure.format(q.mean - l.mean, 4)) ± \(Measure.format(standardError, 4)) (Welch t = \(Measure.format(t, 2)); |t| > 2.1 would be beyond noise at 5 %); Quiver ahead on \(ahead), behind on \(behind) of \(seeds) seeds")
}

/// Mean and sample standard deviation.
struct Summary {
    let count: Int
    let mean: Double
    let deviation: Double

    init(_ values: [Double]) {
        count = values.count
        let mean = values.isEmpty ? .nan : values.reduce(0, +) / Double(values.count)
        let squares = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)
        self.mean = mean
        deviation = values.count > 1 ? (squares / Double(values.count - 1)).squareRoot() : 0
    }
}
