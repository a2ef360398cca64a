// quiver-bench training: training steps of an adapter (seq_bn + 2-layer head) and of a fusion of 3 on MiniLM-L6,
// side by side with the Python `adapters` library on PyTorch, in one run.
//
//   quiver-bench training [--model DIR] [--rounds N] [--steps N] [--threads 1,2] [--cases single,fusion3]
//                         [--python PATH] [--script PATH] [--quiver-only] [--accuracy [--epochs N] [--seeds N]] [--keep DIR]
//
// Both sides train on the same token ids (Quiver packed, as `quiver train` runs them; PyTorch padded, as its collator
// pads them): batches of 16 short synthetic sentences (9–20 tokens, padded to the
// batch's longest), labels 0/1. A step is the Hugging Face Trainer's: forward with dropout, backward, global norm
// clip at 1, AdamW, linear schedule. The PyTorch side is scripts/bench/training_torch.py, one process per case and
// thread count (its model loading is not timed; its first steps are warm-up, as are Quiver's). Cells alternate
// between the sides, rounds keep each cell's best. `--accuracy` instead compares whole training runs on a task of
// real sentences, several seeds a side (TrainingAccuracy.swift).
// Figures: docs/benchmarks.md, "Training (issue 5)".
import Foundation
import QuiverModel
import QuiverStore
import QuiverTensor

func runTrainingBenchmark(_ arguments: [String]) throws {
    let options = try TrainingBenchmarkOptions(arguments)
    guard let modelFolder = options.modelFolder else {
        print("quiver-bench training needs all-MiniLM-L6-v2 as a Hugging Face folder: set QUIVER_MINILM_DIR or pass --model DIR (docs/benchmarks.md)")
        throw BenchError("no model folder")
    }
    let base = try BaseModel(folder: modelFolder)
    let scratch = options.keepFolder ?? FileManager.default.temporaryDirectory.path + "/quiver-bench-training-\(getpid())"
    try? FileManager.default.removeItem(atPath: scratch)
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { if options.keepFolder == nil { try? FileManager.default.removeItem(atPath: scratch) } }

    print("# quiver-bench training — \(cpuModelName()), \(Parallel.availableCores) cores, load average \(loadAverage())")
    print("# model \(modelFolder) (\(base.config.layerCount) layers, hidden \(base.config.hiddenSize))")
    let peer = options.quiverOnly ? nil : TrainingPeer(python: options.python, script: try options.scriptPath(), model: modelFolder)
    if options.accuracy {
        try runAccuracyComparison(
            base: base, python: options.quiverOnly ? nil : options.python, model: modelFolder, scratch: scratch,
            seeds: options.seeds, epochs: options.epochs)
        return
    }

    let batches = SyntheticSentences.speedBatches(base: base, count: 8, batchSize: 16)
    try SyntheticSentences.writeJSON(batches, to: scratch + "/inputs.json")
    let lengths = batches.map(\.input.sequenceLength)
    print("# \(batches.count) batches of 16 short sentences, \(lengths.min()!)–\(lengths.max()!) tokens; \(options.steps) timed steps after 3 warm-up")
    print("# \(Gemm.measurePeakGFLOPS())")

    var results: [String: Double] = [:]  // "side case threads" → best examples/s
    func record(_ key: String, _ value: Double) {
        results[key] = max(results[key] ?? 0, value)
        FileHandle.standardError.write(Data("  \(key): \(Measure.format(value, 1)) examples/s\n".utf8))
    }
    var parameterCounts: [String: (quiver: Int, torch: Int?)] = [:]
    var printedVersions = false
    for _ in 1...options.rounds {
        for benchCase in options.cases {
            for threads in options.threads {
                let model = try benchCase.quiverModel(base: base)
                model.threads = threads
                let quiverRate = try timeQuiverSteps(model, batches: batches, steps: options.steps)
                record("quiver \(benchCase.rawValue) \(threads)T", quiverRate)
                var torchCount: Int?
                if let peer {
                    do {
                        let answer = try peer.run([
                            "--inputs", scratch + "/inputs.json", "--case", benchCase.torchCase, "--threads", "\(threads)",
                            "--steps", "\(options.steps)",
                        ])
                        record("torch \(benchCase.rawValue) \(threads)T", answer.examplesPerSecond)
                        torchCount = answer.trainableParameters
                        if !printedVersions { print("# peer: \(answer.versions)") }
                        printedVersions = true
                    } catch {
                        FileHandle.standardError.write(Data("  torch \(benchCase.rawValue) \(threads)T failed: \(error)\n".utf8))
                    }
                }
                parameterCounts[benchCase.rawValue] = (model.parameters.reduce(0) { $0 + $1.value.count }, torchCount)
            }
        }
    }

    print("")
    print("examples/s, batch 16 (best of \(options.rounds) rounds)")
    print("| case | trainable parameters Quiver / PyTorch | " + options.threads.map { "Quiver \($0)T" }.joined(separator: " | ") + " | "
        + options.threads.map { "PyTorch \($0)T" }.joined(separator: " | ") + " | best / best | target ≥ 1.5× |")
    for benchCase in options.cases {
        let quiver = options.threads.map { results["quiver \(benchCase.rawValue) \($0)T"] }
        let torch = options.threads.map { results["torch \(benchCase.rawValue) \($0)T"] }
        let bestQuiver = quiver.compactMap { $0 }.max() ?? 0
        let bestTorch = torch.compactMap { $0 }.max()
        let ratio = bestTorch.map { bestQuiver / $0 }
        let counts = parameterCounts[benchCase.rawValue]
        let cells = (quiver + torch).map { $0.map { Measure.format($0, 1) } ?? "—" }
        print("| \(benchCase.label) | \(counts?.quiver ?? 0) / \(counts?.torch.map(String.init) ?? "—") | "
            + cells.joined(separator: " | ") + " | " + (ratio.map { Measure.format($0) + "×" } ?? "—") + " | "
            + (ratio.map { $0 >= 1.5 ? "met" : "missed" } ?? "—") + " |")
    }
    print("# load average at the end \(loadAverage())")
}

/// Examples per second of `steps` training steps (after 3 untimed ones), cycling through `batches`.
private func timeQuiverSteps(_ model: TrainableTask, batches: [TrainingBatch], steps: Int) throws -> Double {
    let parameters = model.parameters
    let optimizer = AdamW(parameters: parameters)
    let warmup = 3
    let schedule = LearningRateSchedule(peak: 1e-4, totalSteps: warmup + steps, warmupRatio: 0.1)
    var random = SeededGenerator(seed: 42)
    // Packed, as `quiver train` batches (the peer gets the same ids padded, as its collator pads them).
    let batches = batches.map { TrainingBatch(input: $0.input.withoutPadding(), labels: $0.labels) }
    func step(_ index: Int) throws -> Int {
        let batch = batches[index % batches.count]
        optimizer.zeroGradients()
        _ = try model.trainStep(batch, dropout: true, random: &random)
        GradientClipping.clip(parameters, maxNorm: 1)
        optimizer.step(learningRate: schedule.rate(atStep: optimizer.stepCount))
        return batch.labels.count
    }
    for index in 0..<warmup { _ = try step(index) }
    var examples = 0
    let seconds = try Measure.seconds { for index in warmup..<(warmup + steps) { examples += try step(index) } }
    return Double(examples) / seconds
}

// MARK: - Cases and data

private enum TrainingCase: String, CaseIterable {
    case single, fusion3

    var label: String { self == .single ? "seq_bn adapter + head" : "dynamic fusion of 3 seq_bn + head" }
    var torchCase: String { self == .single ? "single" : "fusion" }

    /// A fresh model as `quiver train` / `quiver fuse --train` build it: the library's presets, a 2-layer head.
    func quiverModel(base: BaseModel) throws -> TrainableTask {
        let seqBn = BottleneckConfig.preset("seq_bn")!
        let labels = ["negative", "positive"]
        switch self {
        case .single:
            return try TrainableTask.bottleneck(name: "a", config: seqBn, labels: labels, base: base.encoder, baseName: base.name, seed: 42)
        case .fusion3:
            let members = try (0..<3).map { index -> (name: String, adapter: BottleneckAdapter) in
                let name = "m\(index)"
                let files = try TrainableTask.bottleneck(
                    name: name, config: seqBn, labels: labels, base: base.encoder, baseName: base.name, seed: UInt64(index + 1)
                ).exportFiles()
                guard case .adapter(let adapter as BottleneckAdapter) = try TaskModel.adapter(name: name, files: files, source: name, base: base.config).composition
                else { throw BenchError("seq_bn did not load as a bottleneck adapter") }
                return (name, adapter)
            }
            return try TrainableTask.fusion(
                members: members, config: FusionConfig.preset("dynamic")!, labels: labels, base: base.encoder, baseName: base.name,
                seed: 42)
        }
    }
}

/// Deterministic short sentences (a fixed linear congruential sequence picks the words).
private enum SyntheticSentences {
    static let subjects = ["the film", "this movie", "the story", "our hotel", "the meal", "my new phone", "the concert", "that book"]
    static let positive = ["great", "wonderful", "excellent", "lovely", "brilliant", "fantastic", "superb", "delightful"]
    static let negative = ["terrible", "awful", "boring", "dreadful", "horrible", "poor", "disappointing", "bad"]
    static let tails = ["", "today", "in the end", "as far as i can tell", "for the whole family", "and everyone said so", "again"]

    /// state → next state, and a pick from `count` choices.
    private static func pick(_ state: inout UInt64, _ count: Int) -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int((state >> 33) % UInt64(count))
    }

    /// A sentence and its sentiment: an adjective of either list, negated by "not" one time in three.
    static func sentence(_ state: inout UInt64) -> (text: String, label: Int) {
        let isPositive = pick(&state, 2) == 0
        let adjective = (isPositive ? positive : negative)[pick(&state, positive.count)]
        let negated = pick(&state, 3) == 0
        let tail = tails[pick(&state, tails.count)]
        let text = "\(subjects[pick(&state, subjects.count)]) was \(negated ? "not " : "")\(adjective) \(tail)"
        return (text.trimmingCharacters(in: .whitespaces), isPositive != negated ? 1 : 0)
    }

    static func batches(base: BaseModel, count: Int, batchSize: Int, seed: UInt64) -> [TrainingBatch] {
        var state = seed
        return (0..<count).map { _ in
            let items = (0..<batchSize).map { _ in sentence(&state) }
            return TrainingBatch(input: EncoderInput(base.tokenizer.encodeBatch(items.map(\.text), maxLength: 64)), labels: items.map(\.label))
        }
    }

    static func speedBatches(base: BaseModel, count: Int, batchSize: Int) -> [TrainingBatch] {
        batches(base: base, count: count, batchSize: batchSize, seed: 5)
    }

    /// {"batches": [{"batch", "length", "ids", "mask", "labels"}]} for training_torch.py.
    static func writeJSON(_ batches: [TrainingBatch], to path: String) throws {
        let object = JSONValue.object([
            (key: "batches", value: .array(batches.map { batch in
                .object([
                    (key: "batch", value: .integer(Int64(batch.input.batch))),
                    (key: "length", value: .integer(Int64(batch.input.sequenceLength))),
                    (key: "ids", value: .array(batch.input.ids.map { .integer(Int64($0)) })),
                    (key: "mask", value: .array(batch.input.attentionMask.map { .integer(Int64($0)) })),
                    (key: "labels", value: .array(batch.labels.map { .integer(Int64($0)) })),
                ])
            }))
        ])
        try Data(JSONWriter.serialize(object).utf8).write(to: URL(fileURLWithPath: path))
    }
}

// MARK: - The PyTorch side

/// scripts/bench/training_torch.py, one process per measurement; its one JSON line is the answer.
private struct TrainingPeer {
    let python: String
    let script: String
    let model: String

    struct Answer {
        var examplesPerSecond: Double
        var trainableParameters: Int?
        var versions: String
    }

    func run(_ arguments: [String]) throws -> Answer {
        let output = try runPeer(python, [script, "--model", model] + arguments)
        guard let line = output.split(separator: "\n").last,
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let rate = object["examples_per_second"] as? Double
        else {
            throw BenchError("\(python) \(script) gave no result line: \(output.suffix(400))")
        }
        let versions = ["torch", "transformers", "adapters"].compactMap { key in (object[key] as? String).map { "\(key) \($0)" } }
        return Answer(
            examplesPerSecond: rate, trainableParameters: object["trainable_parameters"] as? Int,
            versions: versions.joined(separator: ", "))
    }
}

// MARK: - Options

private struct TrainingBenchmarkOptions {
    var modelFolder: String? = ProcessInfo.processInfo.environment["QUIVER_MINILM_DIR"]
    var rounds = 2
    var steps = 30
    var epochs = 10
    var seeds = 8
    var threads = [1, 2]
    var cases = TrainingCase.allCases
    var python = peerPython()
    var script: String?
    var quiverOnly = false
    var accuracy = false
    var keepFolder: String?

    init(_ arguments: [String]) throws {
        var remaining = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let next = remaining.popFirst() else { throw BenchError("\(flag) needs a value") }
            return next
        }
        func positive(_ flag: String) throws -> Int {
            guard let number = Int(try value(flag)), number > 0 else { throw BenchError("\(flag): expected a positive integer") }
            return number
        }
        while let flag = remaining.popFirst() {
            switch flag {
            case "--model": modelFolder = try value(flag)
            case "--rounds": rounds = try positive(flag)
            case "--steps": steps = try positive(flag)
            case "--epochs": epochs = try positive(flag)
            case "--seeds": seeds = try positive(flag)
            case "--python": python = try value(flag)
            case "--script": script = try value(flag)
            case "--quiver-only": quiverOnly = true
            case "--accuracy": accuracy = true
            case "--keep": keepFolder = try value(flag)
            case "--threads":
                threads = try value(flag).split(separator: ",").map { text in
                    guard let count = Int(text), count > 0 else { throw BenchError("--threads: expected N[,N…], got \(text)") }
                    return count
                }
            case "--cases":
                cases = try value(flag).split(separator: ",").map { name in
                    guard let found = TrainingCase(rawValue: String(name)) else { throw BenchError("--cases: single or fusion3, got \(name)") }
                    return found
                }
            default:
                throw BenchError(
                    "unknown option \(flag); usage: training [--model DIR] [--rounds N] [--steps N] [--threads N,…] [--cases single,fusion3] "
                        + "[--python PATH] [--script PATH] [--quiver-only] [--accuracy [--epochs N] [--seeds N]] [--keep DIR]")
            }
        }
        modelFolder = modelFolder ?? unpackedMiniLMFolder()
    }

    /// scripts/bench/training_torch.py of this checkout: from the working directory, or beside the build folder.
    func scriptPath() throws -> String {
        if let script { return script }
        let relative = "scripts/bench/training_torch.py"
        guard let found = benchScriptPath(relative) else {
            throw BenchError("cannot find \(relative) (run from the package root or pass --script PATH)")
        }
        return found
    }
}
