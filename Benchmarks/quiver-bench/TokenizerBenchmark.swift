// quiver-bench tokenizer: Quiver's tokenizers against Hugging Face `tokenizers` (the Rust library, driven from
// Python, one thread, `Tokenizer.encode` in a loop) on the same few-MB mixed corpus — WordPiece
// (all-MiniLM-L6-v2's tokenizer), byte-level BPE (the RoBERTa-style fixture) and Unigram (the XLM-R-style
// fixture) — with the ids of both compared on every text.
//
// Options: --python PATH (default $QUIVER_PYTHON, else the active virtual environment's, else python3),
// --no-python, --megabytes N (corpus size, default 4), --rounds N (default 3; the best round counts),
// --only WORD (the tokenizers whose name contains WORD, e.g. `unigram`: for profiling one of them).
// WordPiece reads $QUIVER_MINILM_DIR (else the unpacked MiniLM of `make test`, else the small WordPiece fixture).
import Foundation
import QuiverModel

func runTokenizerBenchmark(_ arguments: [String]) throws {
    var python: String? = peerPython()
    var megabytes = 4.0
    var rounds = 3
    var only: String?
    var iterator = arguments.makeIterator()
    while let argument = iterator.next() {
        switch argument {
        case "--python": python = iterator.next()
        case "--no-python": python = nil
        case "--megabytes": megabytes = max(0.1, Double(iterator.next() ?? "") ?? 4)
        case "--rounds": rounds = max(1, Int(iterator.next() ?? "") ?? 3)
        case "--only": only = iterator.next()?.lowercased()
        default: print("# ignoring unknown option \(argument)")
        }
    }
    guard let fixtures = benchScriptPath("Tests/QuiverModelTests/Fixtures/tokenizers/cases.json") else {
        throw BenchError("run from the package root: Tests/QuiverModelTests/Fixtures/tokenizers is missing")
    }
    let fixtureFolder = (fixtures as NSString).deletingLastPathComponent
    let wordPieceFolder =
        ProcessInfo.processInfo.environment["QUIVER_MINILM_DIR"] ?? unpackedMiniLMFolder()
        ?? ((fixtureFolder as NSString).deletingLastPathComponent + "/tokenizer/minilm")
    let allCases: [(name: String, folder: String)] = [
        ("WordPiece (all-MiniLM-L6-v2)", wordPieceFolder),
        ("byte-level BPE (RoBERTa-style fixture)", fixtureFolder + "/bpe"),
        ("Unigram (XLM-R-style fixture)", fixtureFolder + "/unigram"),
    ]
    let cases = allCases.filter { only == nil || $0.name.lowercased().contains(only!) }
    let texts = try TokenizerBenchCorpus.texts(fixtures: fixtures, megabytes: megabytes)
    let bytes = texts.reduce(0) { $0 + $1.utf8.count }
    print("# quiver-bench tokenizer — \(cpuModelName()), one thread, load average \(loadAverage())")
    print("# corpus: \(texts.count) texts, \(Measure.format(Double(bytes) / 1e6)) MB; best of \(rounds) rounds")

    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-bench-tokenizer-\(getpid())")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let textsFile = scratch.appendingPathComponent("texts.jsonl")
    var lines = Data()
    for text in texts {
        lines.append(try JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed]))
        lines.append(0x0A)
    }
    try lines.write(to: textsFile)
    let peerScript = benchScriptPath("scripts/bench/tokenizers_peer.py")

    var rows: [(name: String, quiver: Double, peer: Double?)] = []
    for (name, folder) in cases {
        let tokenizer = try Tokenizers.load(folder: URL(fileURLWithPath: folder))
        var quiverIDs: [[Int32]] = []
        let quiverSeconds = Measure.best(rounds) {
            quiverIDs = texts.map { tokenizer.encode($0, pair: nil, maxLength: .max).ids }
        }
        var peerSeconds: Double?
        if let python, let peerScript {
            let idsFile = scratch.appendingPathComponent("ids.jsonl")
            do {
                let output = try runPeer(
                    python,
                    [peerScript, "--folder", folder, "--texts", textsFile.path, "--rounds", "\(rounds)",
                     "--ids", idsFile.path])
                let report = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
                peerSeconds = (report?["seconds"] as? [Double])?.min()
                let peerIDs = try String(contentsOf: idsFile, encoding: .utf8).split(separator: "\n").map {
                    (try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [NSNumber] ?? []).map(\.int32Value)
                }
                let mismatches = zip(quiverIDs, peerIDs).enumerated().filter { $0.element.0 != $0.element.1 }
                print(
                    "# \(name): ids compared on \(peerIDs.count) texts, \(mismatches.count) differ"
                        + (report?["tokenizers"].map { " (tokenizers \($0))" } ?? ""))
                for (index, _) in mismatches.prefix(3) {
                    print("#   text \(index): \(String(reflecting: String(texts[index].prefix(80))))")
                }
            } catch {
                print("# tokenizers not measured for \(name): \(error)")
            }
        }
        rows.append((name, quiverSeconds, peerSeconds))
    }
    if python == nil || peerScript == nil { print("# tokenizers not measured (no Python or no peer script)") }

    func rate(_ seconds: Double?) -> String {
        guard let seconds else { return "—" }
        return "\(Measure.format(Double(texts.count) / seconds, 0)) texts/s, \(Measure.format(Double(bytes) / seconds / 1e6, 1)) MB/s"
    }
    print("")
    print("| tokenizer | Quiver | tokenizers | Quiver ÷ tokenizers |")
    print("|---|---|---|---|")
    for row in rows {
        let ratio = row.peer.map { Measure.format($0 / row.quiver) + "×" } ?? "—"
        print("| \(row.name) | \(rate(row.quiver)) | \(rate(row.peer)) | \(ratio) |")
    }
    print("# load average at the end: \(loadAverage())")
}

/// The benchmark's texts: the paragraphs of the machine's license texts (`/usr/share/common-licenses`) and
/// packages' copyright files (read until there is enough), with the fixture texts (multilingual, emoji, whitespace, long words) mixed in every
/// 25 paragraphs, repeated in a seeded shuffled order until `megabytes` — the same texts on every run of a machine.
enum TokenizerBenchCorpus {
    static func texts(fixtures: String, megabytes: Double) throws -> [String] {
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixtures)))
        let fixtureTexts = ((document as? [String: Any])?["texts"] as? [[String: Any]] ?? []).compactMap {
            $0["text"] as? String
        }.filter { !$0.isEmpty }
        let target = Int(megabytes * 1e6)
        var paragraphs: [String] = []
        var found = 0
        for path in textFiles() where found < target {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { continue }
            for paragraph in text.components(separatedBy: "\n\n") {
                let trimmed = paragraph.trimmingCharacters(in: .whitespacesAndNewlines)
                if !trimmed.isEmpty { paragraphs.append(trimmed) }
                found += trimmed.utf8.count
            }
        }
        if paragraphs.isEmpty { paragraphs = fixtureTexts }
        guard !paragraphs.isEmpty else { throw BenchError("no text found for the corpus") }
        var texts: [String] = []
        var size = 0
        var state: UInt64 = 0x5EED
        var pass = 0
        while size < target {
            var order = Array(paragraphs.indices)
            if pass > 0 {
                for index in order.indices.reversed() where index > 0 {
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    order.swapAt(index, Int((state >> 33) % UInt64(index + 1)))
                }
            }
            for (count, index) in order.enumerated() {
                if count % 25 == 0, !fixtureTexts.isEmpty {
                    texts.append(fixtureTexts[(count / 25 + pass) % fixtureTexts.count])
                    size += texts.last!.utf8.count
                }
                texts.append(paragraphs[index])
                size += paragraphs[index].utf8.count
                if size >= target { break }
            }
            pass += 1
        }
        return texts
    }

    /// License texts and packages' copyright files, sorted (at most 400 files).
    static func textFiles() -> [String] {
        let manager = FileManager.default
        var paths: [String] = []
        let licenses = "/usr/share/common-licenses"
        for name in ((try? manager.contentsOfDirectory(atPath: licenses)) ?? []).sorted() {
            paths.append(licenses + "/" + name)
        }
        let docs = "/usr/share/doc"
        for name in ((try? manager.contentsOfDirectory(atPath: docs)) ?? []).sorted() {
            let path = docs + "/" + name + "/copyright"
            if manager.fileExists(atPath: path) { paths.append(path) }
        }
        return Array(paths.prefix(400))
    }
}
