// ONNX Runtime as a peer of `quiver-bench encoder` and `adapters` (issue 16): the same models exported with
// torch.onnx.export and run by ONNX Runtime in a child Python process, plain and through its transformer optimizer
// (scripts/bench/ort_export.py).
import Foundation

/// The two ways the ONNX Runtime peers run a model.
enum OrtVariant: String, CaseIterable {
    /// The exported file at GraphOptimizationLevel.ORT_ENABLE_ALL.
    case plain = "ort"
    /// The same file through `onnxruntime.transformers.optimizer.optimize_model(model_type="bert")` first: fused
    /// attention, skip-layer-norm, embedding and GELU kernels.
    case optimized = "ort-opt"

    /// The engine name in the tables.
    var label: String {
        switch self {
        case .plain: "ORT"
        case .optimized: "ORT opt"
        }
    }
}

/// What a peer script says in its first line: ready (with its versions and notes), or why it cannot run.
struct OrtReady {
    var versions: String
    var notes: [String]
    /// The whole line, for the fields that only one suite reads.
    var raw: [String: Any]

    /// Reads the first line of `peer`; throws the script's own reason (a missing onnxruntime, a failed export).
    init(_ peer: PeerProcess) throws {
        let ready = try peer.readReply()
        guard ready["ready"] as? Bool == true else {
            throw BenchError((ready["error"] as? String) ?? "unexpected first line from \(peer.name): \(ready)")
        }
        versions = ready["versions"] as? String ?? ""
        notes = ready["notes"] as? [String] ?? []
        raw = ready
    }

    /// Prints the versions and one line per note, under "# ONNX Runtime".
    func printNotes(via python: String) {
        print("# ONNX Runtime: \(versions) via \(python)")
        for note in notes { print("#   \(note)") }
    }
}

/// The MiniLM encoder in ONNX Runtime (scripts/bench/encoder_ort.py), on the same token ids as Quiver and PyTorch:
/// one request per (shape, thread count, variant), answered with every run's time.
final class OnnxRuntimeEncoder {
    let ready: OrtReady
    /// The variants whose outputs matched PyTorch's on every shape (the others are not timed).
    let variants: [OrtVariant]
    private let peer: PeerProcess
    private let logPath: String

    init(python: String, script: String, folder: String, shapes: [EncoderBenchShape], vocabSize: Int) throws {
        let temporary = FileManager.default.temporaryDirectory.path
        let specificationPath = temporary + "/quiver-bench-encoder-ort-\(getpid()).json"
        let specification = shapes.map { shape in
            ["batch": shape.batch, "length": shape.length, "ids": shape.ids(vocabSize: vocabSize).map(Int.init)]
        }
        try JSONSerialization.data(withJSONObject: specification).write(to: URL(fileURLWithPath: specificationPath))
        defer { try? FileManager.default.removeItem(atPath: specificationPath) }
        logPath = temporary + "/quiver-bench-encoder-ort-\(getpid()).log"
        let process = try PeerProcess(
            python: python, script: script, arguments: ["--model", folder, "--inputs", specificationPath], log: logPath)
        do {
            ready = try OrtReady(process)
        } catch {
            process.close()
            try? FileManager.default.removeItem(atPath: logPath)
            throw error
        }
        peer = process
        variants = ((ready.raw["variants"] as? [String]) ?? []).compactMap(OrtVariant.init(rawValue:))
    }

    deinit {
        peer.close()
        try? FileManager.default.removeItem(atPath: logPath)
    }

    /// Times shape `shape` (its index) at `threads` intra-op threads after one warm-up run, for `budget` seconds and
    /// at least `minimum` runs (PyTorchEncoder's rule).
    func measure(shape: Int, threads: Int, budget: Double, minimum: Int, variant: OrtVariant) throws
        -> PyTorchEncoder.Result
    {
        let request =
            "{\"shape\": \(shape), \"threads\": \(threads), \"budget\": \(budget), \"minimum\": \(minimum), "
            + "\"variant\": \"\(variant.rawValue)\"}"
        let answer = try peer.request(request)
        guard let times = answer["times"] as? [Double] else { throw BenchError("\(peer.name) answered without times") }
        return PyTorchEncoder.Result(
            times: times, firstToken: ((answer["first_token"] as? [Double]) ?? []).map(Float.init))
    }
}
