// quiver-bench realistic: throughput on real text (issue 16). A few hundred English sentences of varied length run
// from the texts, tokenization included, the way `quiver infer` runs them (`MultiTaskRunner.predict`: MiniLM-L6 with
// one seq_bn adapter and a 2-layer classification head) and the way `quiver embed` does (`Embedder`, mean pooling),
// side by side with what users of PyTorch + `adapters` write for the same work (scripts/bench/realistic_torch.py: a
// DataLoader of batches of 32 in order, the tokenizer padding each batch, `inference_mode`), in alternating rounds.
//
//   quiver-bench realistic [--model DIR] [--python PATH] [--script PATH] [--quiver-only] [--rounds N]
//                          [--sentences N] [--max-length N] [--threads N]
//
// The outputs of both sides are compared first, on every sentence (beyond 1e-3 the run stops). Besides the ratio, the
// report gives the fraction of the packed-token limit: the floating-point work of the sentences without padding,
// at the run's best single-core sgemm rate times the threads, over Quiver's time. Figures: docs/benchmarks.md,
// "Realistic text (issue 16)".
import Foundation
import QuiverModel
import QuiverTensor

func runRealisticBenchmark(_ arguments: [String]) throws {
    let options = try RealisticOptions(arguments)
    guard let modelFolder = options.modelFolder else {
        print(
            """
            quiver-bench realistic needs all-MiniLM-L6-v2 as a Hugging Face folder: set QUIVER_MINILM_DIR or pass \
            --model DIR (./scripts/minilm.sh fetches it into .build/minilm/ and prints the folder).
            """)
        throw BenchError("no model folder")
    }
    let corpus = try RealisticCorpus(count: options.sentenceCount)
    let sentences = corpus.sentences
    let base = try BaseModel(folder: modelFolder)
    guard options.maxLength <= base.maxLength else {
        throw BenchError("--max-length \(options.maxLength) is above the model's limit, \(base.maxLength)")
    }
    let suite = try AdapterSuite(base: base, adapterCount: 1)
    let task = suite.adapters[0]
    let statistics = TokenStatistics(
        lengths: sentences.map { base.tokenizer.encode($0).count }, maxLength: options.maxLength)

    print(
        "# quiver-bench realistic — \(cpuModelName()), \(Parallel.availableCores) cores, load average \(loadAverage())")
    print("# model \(modelFolder) (\(base.config.layerCount) layers, hidden \(base.config.hiddenSize))")
    print("# task: 1 × seq_bn (reduction 16 → bottleneck \(suite.bottleneck)) + 2-layer classification head")
    print("# \(corpus.summary)")
    print("# \(statistics.summary)")

    let scratch = FileManager.default.temporaryDirectory.path + "/quiver-bench-realistic-\(getpid())"
    try? FileManager.default.removeItem(atPath: scratch)
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    try suite.write(to: scratch + "/adapters")
    try RealisticCorpus.writeJSONLines(sentences, to: scratch + "/sentences.jsonl")

    let quiver = try RealisticQuiver(base: base, task: task, maxLength: options.maxLength, threads: options.threads)
    let quiverLoaded = maxResidentKilobytes()
    var peer: RealisticPeer?
    if !options.quiverOnly {
        do {
            peer = try RealisticPeer(
                python: options.python, script: try options.scriptPath(), model: modelFolder,
                adapter: scratch + "/adapters/" + task.name, sentences: scratch + "/sentences.jsonl",
                maxLength: options.maxLength, threads: options.threads, log: scratch + "/python.log")
            let tokenizer = peer!.ready["tokenizer"] as? String ?? "?"
            print("# peer: \(peer!.versions); \(tokenizer), \(options.threads) threads")
        } catch {
            print("# peer: not available (\(error)); Quiver only")
        }
    }
    defer { peer?.process.close() }

    // The parity pass is also each side's warm-up (oneDNN's kernel generation, first touches of the weights).
    if let peer {
        try checkRealisticParity(
            quiver: quiver, peer: peer, sentences: sentences, statistics: statistics, scratch: scratch)
    } else {
        for benchCase in RealisticCase.allCases { _ = try quiver.values(benchCase, sentences) }
    }

    var best: [String: Double] = [:]
    func record(_ side: String, _ benchCase: RealisticCase, _ seconds: Double) {
        best[side + benchCase.rawValue] = min(best[side + benchCase.rawValue] ?? .infinity, seconds)
    }
    for round in 1...options.rounds {
        for benchCase in RealisticCase.allCases {
            let seconds = try Measure.seconds { _ = try quiver.values(benchCase, sentences) }
            record("quiver", benchCase, seconds)
            progress("round \(round)/\(options.rounds) \(benchCase.rawValue) quiver", seconds)
            guard let peer else { continue }
            let peerSeconds = try peer.seconds(benchCase)
            record("torch", benchCase, peerSeconds)
            progress("round \(round)/\(options.rounds) \(benchCase.rawValue) torch", peerSeconds)
        }
    }

    // Peak memory before the sgemm measurement below, whose buffers are the benchmark's, not the engine's.
    let memory = RealisticMemory(
        quiverLoaded: quiverLoaded, quiverPeak: maxResidentKilobytes(),
        peerLoaded: peer?.ready["max_rss_kb"] as? Int, peerPeak: try peer?.maxResidentKilobytes())
    // Where the time goes: tokenization alone (Quiver's as `MultiTaskRunner` calls it, on every thread).
    let tokenization = try RealisticTokenization(
        quiver: Measure.best(options.rounds) {
            _ = base.tokenizer.encodeAll(sentences, maxLength: options.maxLength, threads: options.threads)
        },
        peer: peer.map { peer in try (0..<options.rounds).map { _ in try peer.seconds("tokenize") }.min()! })
    let peak = Gemm.measurePeakGFLOPS()
    let report = RealisticReport(
        sentences: sentences.count, statistics: statistics, config: base.config, bottleneck: suite.bottleneck,
        headLabels: task.labels.count, peak: peak, threads: options.threads, best: best, memory: memory,
        tokenization: tokenization)
    report.print()
    print("# load average at the end: \(loadAverage())")
}

// MARK: - Options

private struct RealisticOptions {
    var modelFolder: String?
    var python = peerPython()
    var script: String?
    var quiverOnly = false
    var rounds = 3
    var sentenceCount = 512
    var maxLength = 128
    var threads = 2

    init(_ arguments: [String]) throws {
        var remaining = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let next = remaining.popFirst() else { throw BenchError("\(flag) needs a value") }
            return next
        }
        func positive(_ flag: String, minimum: Int = 1) throws -> Int {
            guard let number = Int(try value(flag)), number >= minimum else {
                throw BenchError("\(flag): expected an integer of at least \(minimum)")
            }
            return number
        }
        modelFolder = ProcessInfo.processInfo.environment["QUIVER_MINILM_DIR"]
        while let flag = remaining.popFirst() {
            switch flag {
            case "--model": modelFolder = try value(flag)
            case "--python": python = try value(flag)
            case "--script": script = try value(flag)
            case "--quiver-only": quiverOnly = true
            case "--rounds": rounds = try positive(flag)
            case "--sentences": sentenceCount = try positive(flag)
            case "--max-length": maxLength = try positive(flag, minimum: 3)
            case "--threads": threads = try positive(flag)
            default:
                throw BenchError(
                    "unknown option \(flag); usage: realistic [--model DIR] [--python PATH] [--script PATH] [--quiver-only] "
                        + "[--rounds N] [--sentences N] [--max-length N] [--threads N]")
            }
        }
        modelFolder = modelFolder ?? unpackedMiniLMFolder()
    }

    /// scripts/bench/realistic_torch.py of this checkout: from the working directory, or beside the build folder.
    func scriptPath() throws -> String {
        if let script { return script }
        let relative = "scripts/bench/realistic_torch.py"
        guard let found = benchScriptPath(relative) else {
            throw BenchError("cannot find \(relative) (run from the package root or pass --script PATH)")
        }
        return found
    }
}

private func progress(_ label: String, _ seconds: Double) {
    FileHandle.standardError.write(Data("  \(label) \(Measure.format(seconds, 3)) s\n".utf8))
}

// MARK: - Corpus

/// The benchmark's sentences: real English of varied length from the license texts every Debian machine has in
/// `/usr/share/common-licenses` (GPL, LGPL, GFDL, Apache, MPL, Artistic, …), the same on every such machine.
///
/// Each file (in name order) is cut into paragraphs at blank lines, its whitespace runs made single spaces, and each
/// paragraph into sentences after a word ending in `.`, `!` or `?`; an unfinished rest (a heading, a list item) is
/// dropped. Sentences of 3–90 words starting with a letter, `"` or `(` are kept once each, in order of first
/// appearance; a seeded shuffle of those gives the benchmark's order, repeated when more sentences are asked for
/// than there are.
struct RealisticCorpus {
    static let folder = "/usr/share/common-licenses"
    static let seed: UInt64 = 16
    static let words = 3...90

    let sentences: [String]
    let distinct: Int
    let files: Int

    init(count: Int, folder: String = Self.folder) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw BenchError(
                "\(folder) is missing: the realistic suite takes its sentences from the license texts that Debian's "
                    + "base-files package installs there")
        }
        var seen = Set<String>()
        var distinct: [String] = []
        var files = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() {
            guard let data = FileManager.default.contents(atPath: folder + "/" + name) else { continue }
            files += 1
            for sentence in Self.sentences(in: String(decoding: data, as: UTF8.self))
            where seen.insert(sentence).inserted {
                distinct.append(sentence)
            }
        }
        guard !distinct.isEmpty else { throw BenchError("no sentences of \(Self.words) words found in \(folder)") }
        var generator = SeededGenerator(seed: Self.seed)
        var order = Array(distinct.indices)
        for index in order.indices.reversed() where index > 0 {
            order.swapAt(index, Int(generator.next() % UInt64(index + 1)))
        }
        sentences = (0..<count).map { distinct[order[$0 % order.count]] }
        self.distinct = distinct.count
        self.files = files
    }

    var summary: String {
        let repeated = sentences.count > distinct ? ", repeated to make up the count" : ""
        return "corpus: \(sentences.count) sentences drawn (seed \(Self.seed)) from the \(distinct) distinct ones of "
            + "\(Self.words.lowerBound)–\(Self.words.upperBound) words in the \(files) files of \(Self.folder)\(repeated)"
    }

    /// The sentences of one text, by the rule above.
    static func sentences(in text: String) -> [String] {
        var sentences: [String] = []
        var paragraph: [Substring] = []
        func endParagraph() {
            var sentence: [Substring] = []
            for word in paragraph {
                sentence.append(word)
                guard let last = word.last, ".!?".contains(last) else { continue }
                if words.contains(sentence.count), let first = sentence[0].first,
                    first.isLetter || first == "\"" || first == "("
                {
                    sentences.append(sentence.joined(separator: " "))
                }
                sentence = []
            }
            paragraph = []
        }
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let lineWords = line.split(whereSeparator: \.isWhitespace)
            if lineWords.isEmpty { endParagraph() } else { paragraph += lineWords }
        }
        endParagraph()
        return sentences
    }

    /// One JSON string per line, for the peer.
    static func writeJSONLines(_ sentences: [String], to path: String) throws {
        var lines = Data()
        for sentence in sentences {
            lines.append(try JSONSerialization.data(withJSONObject: sentence, options: [.fragmentsAllowed]))
            lines.append(0x0A)
        }
        try lines.write(to: URL(fileURLWithPath: path))
    }
}

/// Sentence lengths in tokens ([CLS] and [SEP] included) and what padding in batches of 32 adds to them.
private struct TokenStatistics {
    static let batchSize = 32
    /// Untruncated lengths, in the corpus order.
    let lengths: [Int]
    let maxLength: Int

    /// The lengths the models see, truncated to `maxLength`.
    var truncated: [Int] { lengths.map { min($0, maxLength) } }
    var total: Int { truncated.reduce(0, +) }

    /// Tokens run when the sentences go in batches of 32 padded to their longest: in the corpus order (the peer's
    /// DataLoader) or sorted by length first.
    func paddedTotal(sorted: Bool) -> Int {
        let lengths = sorted ? truncated.sorted() : truncated
        return stride(from: 0, to: lengths.count, by: Self.batchSize).reduce(0) { sum, start in
            let batch = lengths[start..<min(start + Self.batchSize, lengths.count)]
            return sum + batch.count * (batch.max() ?? 0)
        }
    }

    var summary: String {
        let mean = Double(lengths.reduce(0, +)) / Double(max(1, lengths.count))
        let median = lengths.sorted()[lengths.count / 2]
        let cut = lengths.filter { $0 > maxLength }.count
        func padded(_ sorted: Bool) -> String {
            let tokens = paddedTotal(sorted: sorted)
            return "\(tokens) (\(Measure.format(100 * Double(tokens - total) / Double(tokens), 0)) % padding)"
        }
        return "tokens per sentence: mean \(Measure.format(mean, 1)), median \(median), min \(lengths.min() ?? 0), "
            + "max \(lengths.max() ?? 0); \(total) tokens after truncation to \(maxLength) (\(cut) sentences cut); "
            + "padded in batches of \(Self.batchSize): \(padded(false)) in this order, \(padded(true)) sorted by length"
    }
}

// MARK: - Cases and sides

private enum RealisticCase: String, CaseIterable {
    /// `MultiTaskRunner.predict` with the adapter and its head (PyTorch: AutoAdapterModel, logits).
    case predict
    /// `Embedder` with mean pooling (PyTorch: transformers' AutoModel, masked mean of the last hidden states).
    case embed

    var label: String {
        switch self {
        case .predict: "infer: seq_bn + head"
        case .embed: "embed: mean pooling"
        }
    }
}

/// Quiver's side: what `quiver infer TASK` and `quiver embed --pooling mean` run, from the texts.
private struct RealisticQuiver {
    let task: TaskModel
    let runner: MultiTaskRunner
    let embedder: Embedder

    /// Passes as `quiver infer` and `quiver embed` cut them: packed, by tokens.
    init(base: BaseModel, task: TaskModel, maxLength: Int, threads: Int) throws {
        self.task = task
        runner = MultiTaskRunner(base: base, maxLength: maxLength, threads: threads)
        embedder = try Embedder(model: base, pooling: .mean, maxLength: maxLength, threads: threads)
    }

    /// One output vector per sentence: logits, or the embedding.
    func values(_ benchCase: RealisticCase, _ sentences: [String]) throws -> [[Float]] {
        switch benchCase {
        case .predict: try runner.predict([task], texts: sentences)[0].results.map { $0.logits ?? [] }
        case .embed: try embedder.embed(sentences)
        }
    }
}

/// scripts/bench/realistic_torch.py, started once; one request line in, one JSON line out.
private struct RealisticPeer {
    let process: PeerProcess
    /// The script's first line (`{"ready": true, …}`).
    let ready: [String: Any]

    init(
        python: String, script: String, model: String, adapter: String, sentences: String, maxLength: Int, threads: Int,
        log: String
    ) throws {
        process = try PeerProcess(
            python: python, script: script,
            arguments: [
                "--model", model, "--adapter", adapter, "--sentences", sentences, "--max-length", "\(maxLength)",
                "--batch-size", "\(TokenStatistics.batchSize)", "--threads", "\(threads)",
            ], log: log)
        ready = try process.readReply()
        guard ready["ready"] as? Bool == true else {
            process.close()
            throw BenchError("unexpected first line from \(process.name): \(ready)")
        }
    }

    /// "python 3.x, torch 2.x, …", then PyTorch's parallel settings when the script gives them.
    var versions: String {
        var text = ["python", "torch", "transformers", "adapters"].compactMap { key in
            (ready[key] as? String).map { "\(key) \($0)" }
        }.joined(separator: ", ")
        if let parallel = ready["torch_parallel"] as? [String] {
            text += " — " + parallel.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "; ")
        }
        return text
    }

    /// One timed pass over all the sentences: a case, or "tokenize" (the tokenizer alone).
    func seconds(_ benchCase: RealisticCase) throws -> Double { try seconds(benchCase.rawValue) }

    func seconds(_ benchCase: String) throws -> Double {
        let reply = try process.request("time \(benchCase)")
        guard let seconds = reply["seconds"] as? Double else { throw BenchError("no time in \(reply)") }
        return seconds
    }

    /// One pass's outputs, one row per sentence, through `file` (little-endian float32: parsing them as JSON would
    /// add tens of MB to the peak memory that the report compares).
    func values(_ benchCase: RealisticCase, file: String) throws -> [[Float]] {
        let reply = try process.request("values \(benchCase.rawValue) \(file)")
        guard let rows = reply["rows"] as? Int, let cols = reply["cols"] as? Int else {
            throw BenchError("no rows and cols in \(reply)")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        guard data.count == rows * cols * 4 else { throw BenchError("\(file): \(data.count) bytes, not \(rows) × \(cols) floats") }
        let values = data.withUnsafeBytes { bytes in
            (0..<(rows * cols)).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        return (0..<rows).map { Array(values[($0 * cols)..<(($0 + 1) * cols)]) }
    }

    func maxResidentKilobytes() throws -> Int {
        let reply = try process.request("memory")
        guard let kilobytes = reply["max_rss_kb"] as? Int else { throw BenchError("no max_rss_kb in \(reply)") }
        return kilobytes
    }
}

// MARK: - Parity

/// Both sides must compute the same thing before their times mean anything: every sentence's output compared.
private func checkRealisticParity(
    quiver: RealisticQuiver, peer: RealisticPeer, sentences texts: [String], statistics: TokenStatistics, scratch: String
) throws {
    let sentences = texts.count
    print("\nParity (max |Quiver − PyTorch| over every sentence's output; bound 1e-3):")
    for benchCase in RealisticCase.allCases {
        let ours = try quiver.values(benchCase, texts)
        let theirs = try peer.values(benchCase, file: scratch + "/\(benchCase.rawValue).f32")
        guard ours.count == sentences, theirs.count == sentences, zip(ours, theirs).allSatisfy({ $0.count == $1.count })
        else {
            throw BenchError(
                "parity, \(benchCase.rawValue): \(ours.count) outputs from Quiver, \(theirs.count) from PyTorch, "
                    + "or rows of different sizes")
        }
        var worst = (difference: Float(0), sentence: 0)
        for (index, (mine, peers)) in zip(ours, theirs).enumerated() {
            // A NaN anywhere must not hide behind max(): it sticks, and fails the bound below.
            let difference = zip(mine, peers).reduce(Float(0)) { found, pair in
                let difference = abs(pair.0 - pair.1)
                return difference.isNaN || difference > found ? difference : found
            }
            if difference.isNaN || difference > worst.difference { worst = (difference, index) }
        }
        let scale = theirs.joined().map { abs($0) }.max() ?? 0
        let verdict = worst.difference <= 1e-3 ? "ok" : "MISMATCH"
        print(
            "  \(pad(benchCase.label, 22)) \(String(format: "%.2e", worst.difference)) (worst: sentence \(worst.sentence), "
                + "\(statistics.lengths[worst.sentence]) tokens; max |value| \(String(format: "%.3f", scale))) \(verdict)"
        )
        guard worst.difference <= 1e-3 else {
            throw BenchError(
                "parity: \(benchCase.label) differs by \(worst.difference) from PyTorch (bound 1e-3) on sentence "
                    + "\(worst.sentence); the two sides do not compute the same thing, so their times are not compared")
        }
    }
}

// MARK: - Report

/// Best seconds of tokenizing every sentence without running the model (Quiver: encodeAll on the run's threads).
private struct RealisticTokenization {
    let quiver: Double
    let peer: Double?
}

/// Peak resident memory (getrusage's `ru_maxrss`, kilobytes) of each process: after loading, and after the rounds.
private struct RealisticMemory {
    let quiverLoaded: Int
    let quiverPeak: Int
    let peerLoaded: Int?
    let peerPeak: Int?
}

/// This process's peak resident memory so far, in kilobytes.
private func maxResidentKilobytes() -> Int {
    var usage = rusage()
    #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
    #else
        getrusage(RUSAGE_SELF, &usage)
    #endif
    return Int(usage.ru_maxrss)
}

private struct RealisticReport {
    static let target = 3.0
    let sentences: Int
    let statistics: TokenStatistics
    let config: BertConfig
    let bottleneck: Int
    let headLabels: Int
    let peak: Gemm.PeakMeasurement
    let threads: Int
    /// "quiver"/"torch" + case → best seconds.
    let best: [String: Double]
    let memory: RealisticMemory
    let tokenization: RealisticTokenization

    /// Multiply-adds ×2 of the sentences' own tokens, no padding: per token and layer the four h×h projections, the
    /// two h×i feed-forward products and the attention's QKᵀ and PV over the sentence's t tokens (2·2·t·h), plus the
    /// adapter's down and up products (2·2·h·b) when there is one; per sentence the head's h×h and h×labels products.
    func flops(_ benchCase: RealisticCase) -> Double {
        let (h, i) = (Double(config.hiddenSize), Double(config.intermediateSize))
        let adapter = benchCase == .predict ? 2 * 2 * h * Double(bottleneck) : 0
        let head = benchCase == .predict ? 2 * (h * h + h * Double(headLabels)) : 0
        return statistics.truncated.reduce(0) { sum, length in
            let t = Double(length)
            let perToken = 2 * (4 * h * h + 2 * h * i) + 2 * 2 * t * h + adapter
            return sum + perToken * t * Double(config.layerCount) + head
        }
    }

    func print() {
        let rate = peak.gflops * Double(threads)
        Swift.print(
            "\n## \(sentences) sentences, \(statistics.total) tokens — seconds per pass over all of them "
                + "(best of all rounds)")
        Swift.print(
            "| case | Quiver | PyTorch | PyTorch ÷ Quiver | Quiver sentences/s | PyTorch sentences/s | GFLOP unpadded "
                + "| packed-token limit | Quiver of the limit |")
        Swift.print("|---|---|---|---|---|---|---|---|---|")
        for benchCase in RealisticCase.allCases {
            let quiver = best["quiver" + benchCase.rawValue]
            let torch = best["torch" + benchCase.rawValue]
            let work = flops(benchCase)
            let limit = work / (rate * 1e9)
            func cell(_ value: Double?, _ text: (Double) -> String) -> String { value.map(text) ?? "-" }
            let cells: [String] = [
                benchCase.label,
                cell(quiver) { Measure.format($0, 3) + " s" },
                cell(torch) { Measure.format($0, 3) + " s" },
                cell(ratio(benchCase)) { Measure.format($0) + "×" },
                cell(quiver) { Measure.format(Double(sentences) / $0, 0) },
                cell(torch) { Measure.format(Double(sentences) / $0, 0) },
                Measure.format(work / 1e9, 1),
                Measure.format(limit, 3) + " s",
                cell(quiver) { Measure.format(100 * limit / $0, 0) + " %" },
            ]
            Swift.print("| " + cells.joined(separator: " | ") + " |")
        }
        Swift.print(
            "Packed-token limit: the unpadded work at \(Measure.format(rate, 1)) GFLOP/s, \(threads) × the run's best "
                + "single-core sgemm rate \(Measure.format(peak.gflops, 1)) GFLOP/s (\(peak.shape)) — a single-core rate "
                + "times the threads, not a measured \(threads)-thread rate.")
        func milliseconds(_ seconds: Double?) -> String { seconds.map { Measure.format($0 * 1000, 0) + " ms" } ?? "-" }
        Swift.print(
            "Tokenization alone: Quiver \(milliseconds(tokenization.quiver)), "
                + "PyTorch's tokenizer (padding, tensors) \(milliseconds(tokenization.peer)).")
        Swift.print("\n## Target (issue 16): PyTorch ÷ Quiver ≥ \(Measure.format(Self.target, 0))× on real text")
        for benchCase in RealisticCase.allCases {
            let value = ratio(benchCase)
            let verdict = value.map { $0 >= Self.target ? "met" : "MISSED" } ?? "not measured"
            Swift.print("  \(pad(benchCase.label, 22)) \(value.map { Measure.format($0) + "×" } ?? "-") — \(verdict)")
        }
        func megabytes(_ kilobytes: Int?) -> String {
            kilobytes.map { Measure.format(Double($0) / 1024, 0) + " MB" } ?? "-"
        }
        Swift.print("\n## Peak resident memory (max RSS of each process; after loading → after the rounds)")
        Swift.print(
            "  Quiver   \(megabytes(memory.quiverLoaded)) → \(megabytes(memory.quiverPeak))  (one base model for both cases)"
        )
        guard memory.peerPeak != nil else { return }
        Swift.print(
            "  PyTorch  \(megabytes(memory.peerLoaded)) → \(megabytes(memory.peerPeak))  "
                + "(the peer holds two models: the adapters model and transformers' plain one for the embeddings)")
    }

    func ratio(_ benchCase: RealisticCase) -> Double? {
        guard let quiver = best["quiver" + benchCase.rawValue], let torch = best["torch" + benchCase.rawValue] else {
            return nil
        }
        return torch / quiver
    }
}
