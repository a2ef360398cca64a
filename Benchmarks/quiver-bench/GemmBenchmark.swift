// quiver-bench gemm: GFLOP/s of sgemm at MiniLM-L6 sizes for each backend and threading, side by side in one run,
// the best single-core rate (the machine's limit the encoder benchmark divides by), and ns/element of the
// element-wise kernels, fast against reference.
//
// OpenBLAS is measured in child processes (`quiver-bench gemm --openblas-child`), loaded with dlopen so the project
// never links it: OPENBLAS_CORETYPE is read when the library loads, so "as detected" and "with the core type set"
// need two processes. Install it with `apt-get install libopenblas-dev` to get those columns.
import Foundation
import QuiverTensor

#if canImport(Glibc)
    import Glibc
#endif

func runGemmBenchmark(_ arguments: [String]) throws {
    if arguments.first == "--openblas-child" {
        try runOpenBLASChild()
        return
    }
    let quick = arguments.contains("--quick")
    let budget: Duration = quick ? .milliseconds(60) : .milliseconds(250)
    if arguments.contains("--elementwise-only") {
        printElementwiseTimes(budget: budget)
        printAccuracy()
        return
    }

    let peak = Gemm.measurePeakGFLOPS()
    print("# quiver-bench gemm — \(cpuModelName()), \(Parallel.availableCores) cores, load average \(loadAverage())")
    print("# (other processes on these cores lower every figure, the two-thread ones most)")
    print(peak)
    print("")

    // Every cell is measured in `rounds` rounds spread over the run, keeping its best: a burst of other work on
    // the machine then costs one round of some cells, not all of one cell.
    let rounds = quick ? 1 : 3
    let roundBudget = budget / rounds
    var table = ResultTable()
    let openBLAS = openBLASConfigurations()
    for round in 0..<rounds {
        for shape in GemmShape.miniLM {
            for backend in DNNLBackend.allCases {
                table.add(shape.name, backend.label, measure(shape, budget: roundBudget, run: backend.runner(shape)))
            }
        }
        for (label, environment) in openBLAS {
            for line in runChild(environment: environment, budget: roundBudget, printCore: round == 0) {
                table.add(line.shape, "\(label) \(line.backend)", line.gflops)
            }
        }
    }
    table.print(peak: peak.gflops)

    print("")
    printAttentionTimes(budget: budget)
    print("")
    printElementwiseTimes(budget: budget)
    print("")
    printAccuracy()
}

// MARK: - Shapes

struct GemmShape {
    var name: String
    var m: Int, n: Int, k: Int
    /// Products per measurement: 1, or batch·heads for the per-head attention products.
    var count: Int = 1
    var transB: Gemm.Transpose = .transposed
    /// Row stride of A (and of B for attention, where heads are column blocks of a (tokens, hidden) buffer).
    var lda: Int? = nil
    var ldb: Int? = nil

    var flops: Double { 2 * Double(m) * Double(n) * Double(k) * Double(count) }

    /// MiniLM-L6 (hidden 384, intermediate 1536, 12 heads of 32) at 32×128 and 1×16 tokens. Linear layers multiply
    /// x (tokens, in) by a PyTorch weight (out, in), transposed; the attention products run per head over a
    /// batch of 32 sequences of 128 tokens, reading the heads in place (row stride 384).
    static let miniLM: [GemmShape] = {
        var shapes: [GemmShape] = []
        for tokens in [4096, 16] {
            shapes.append(GemmShape(name: "[\(tokens)x384]·[384x384]", m: tokens, n: 384, k: 384))
            shapes.append(GemmShape(name: "[\(tokens)x384]·[384x1536]", m: tokens, n: 1536, k: 384))
            shapes.append(GemmShape(name: "[\(tokens)x1536]·[1536x384]", m: tokens, n: 384, k: 1536))
        }
        shapes.append(
            GemmShape(name: "384 heads [128x32]·[32x128]", m: 128, n: 128, k: 32, count: 384, lda: 384, ldb: 384))
        shapes.append(
            GemmShape(
                name: "384 heads [128x128]·[128x32]", m: 128, n: 32, k: 128, count: 384, transB: .normal, ldb: 384))
        return shapes
    }()
}

/// Operands for one shape: A (count, m, k), B (count, k, n) or (count, n, k), C (count, m, n), heads laid out as
/// column blocks when a stride is given.
final class Operands: @unchecked Sendable {
    let shape: GemmShape
    let a: UnsafeMutablePointer<Float>
    let b: UnsafeMutablePointer<Float>
    let c: UnsafeMutablePointer<Float>
    let lda: Int, ldb: Int, ldc: Int
    let aSize: Int, bSize: Int, cSize: Int

    init(_ shape: GemmShape) {
        self.shape = shape
        lda = shape.lda ?? shape.k
        ldb = shape.ldb ?? (shape.transB == .normal ? shape.n : shape.k)
        ldc = shape.n
        let bRows = shape.transB == .normal ? shape.k : shape.n
        aSize = shape.m * lda
        bSize = bRows * ldb
        cSize = shape.m * ldc
        a = .allocate(capacity: aSize * shape.count)
        b = .allocate(capacity: bSize * shape.count)
        c = .allocate(capacity: cSize * shape.count)
        for i in 0..<(aSize * shape.count) { a[i] = Float(i % 13) * 0.01 - 0.06 }
        for i in 0..<(bSize * shape.count) { b[i] = Float(i % 7) * 0.02 - 0.06 }
        c.initialize(repeating: 0, count: cSize * shape.count)
    }

    deinit {
        a.deallocate()
        b.deallocate()
        c.deallocate()
    }

    /// Product `index` of the shape with oneDNN.
    func dnnl(_ index: Int, threading: Gemm.Threading) {
        Gemm.sgemm(
            .normal, shape.transB, m: shape.m, n: shape.n, k: shape.k, a: a + index * aSize, lda: lda,
            b: b + index * bSize, ldb: ldb, c: c + index * cSize, ldc: ldc, threading: threading)
    }
}

// MARK: - oneDNN backends

enum DNNLBackend: CaseIterable {
    case single, openMP2, split2

    var label: String {
        switch self {
        case .single: "dnnl 1T"
        case .openMP2: "dnnl omp 2T"
        case .split2: "dnnl split 2T"
        }
    }

    func runner(_ shape: GemmShape) -> (Operands) -> Void {
        switch self {
        case .single:
            return { operands in for index in 0..<shape.count { operands.dnnl(index, threading: .single) } }
        case .openMP2:
            return { operands in for index in 0..<shape.count { operands.dnnl(index, threading: .openMP(threads: 2)) } }
        case .split2:
            // One product: split its output; many (heads): split the products.
            if shape.count == 1 {
                return { operands in operands.dnnl(0, threading: .splitOutput(threads: 2)) }
            }
            return { operands in
                Parallel.forEachChunk(of: shape.count, threads: 2) { items in
                    for index in items { operands.dnnl(index, threading: .single) }
                }
            }
        }
    }
}

/// Best GFLOP/s of `run` over repetitions filling `budget` (at least 3), after one warm-up call.
func measure(_ shape: GemmShape, budget: Duration, run: (Operands) -> Void) -> Double {
    let operands = Operands(shape)
    let best = bestTime(budget: budget) { run(operands) }
    return shape.flops / best / 1e9
}

/// The fastest of repeated calls of `body` within `budget` (at least 3 calls after a warm-up), in seconds.
func bestTime(budget: Duration, _ body: () -> Void) -> Double {
    body()
    let clock = ContinuousClock()
    let start = clock.now
    var best = Double.infinity
    var repetitions = 0
    while repetitions < 3 || clock.now - start < budget {
        let elapsed = clock.measure(body)
        best = min(best, seconds(elapsed))
        repetitions += 1
    }
    return best
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

// MARK: - OpenBLAS (child processes)

/// The OpenBLAS configurations to measure: as detected, and with OPENBLAS_CORETYPE set for this CPU's widest
/// vector unit. Empty when OpenBLAS is not installed.
func openBLASConfigurations() -> [(String, [String: String])] {
    guard let handle = dlopen("libopenblas.so.0", RTLD_LAZY | RTLD_LOCAL) else {
        print("(OpenBLAS not installed: apt-get install libopenblas-dev to compare with it)")
        return []
    }
    dlclose(handle)
    var detected = ProcessInfo.processInfo.environment
    detected["OPENBLAS_CORETYPE"] = nil
    var forced = ProcessInfo.processInfo.environment
    let coreType = cpuFlags().contains("avx512f") ? "SkylakeX" : "Haswell"
    forced["OPENBLAS_CORETYPE"] = coreType
    return [("openblas", detected), ("openblas \(coreType)", forced)]
}

struct ChildResult {
    var shape: String
    var backend: String
    var gflops: Double
}

func runChild(environment: [String: String], budget: Duration, printCore: Bool) -> [ChildResult] {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
    process.arguments = ["gemm", "--openblas-child", String(Int(seconds(budget) * 1000))]
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    do {
        try process.run()
    } catch {
        print("(could not start the OpenBLAS child: \(error))")
        return []
    }
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    var results: [ChildResult] = []
    for line in output.split(separator: "\n") {
        let fields = line.split(separator: "\t").map(String.init)
        if fields.count == 4, fields[0] == "RESULT", let gflops = Double(fields[3]) {
            results.append(ChildResult(shape: fields[1], backend: fields[2], gflops: gflops))
        } else if fields.count == 2, fields[0] == "CORE", printCore {
            print(
                "OpenBLAS \(environment["OPENBLAS_CORETYPE"].map { "OPENBLAS_CORETYPE=\($0)" } ?? "as detected"): "
                    + "core \(fields[1])")
        }
    }
    return results
}

/// In the child: load OpenBLAS, measure every shape with 1 and 2 threads, print tab-separated results.
func runOpenBLASChild() throws {
    let budgetMilliseconds = Int(CommandLine.arguments.last ?? "") ?? 250
    guard let handle = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL),
        let gemmSymbol = dlsym(handle, "cblas_sgemm"),
        let threadsSymbol = dlsym(handle, "openblas_set_num_threads")
    else { return }
    typealias CBLASSgemm =
        @convention(c) (
            Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>, Int32, UnsafePointer<Float>, Int32,
            Float, UnsafeMutablePointer<Float>, Int32
        ) -> Void
    typealias SetThreads = @convention(c) (Int32) -> Void
    typealias CoreName = @convention(c) () -> UnsafePointer<CChar>?
    let sgemm = unsafeBitCast(gemmSymbol, to: CBLASSgemm.self)
    let setThreads = unsafeBitCast(threadsSymbol, to: SetThreads.self)
    if let coreSymbol = dlsym(handle, "openblas_get_corename"),
        let name = unsafeBitCast(coreSymbol, to: CoreName.self)()
    {
        print("CORE\t\(String(cString: name))")
    }
    let (rowMajor, noTrans, trans): (Int32, Int32, Int32) = (101, 111, 112)
    for threads in [1, 2] {
        setThreads(Int32(threads))
        for shape in GemmShape.miniLM {
            let gflops = measure(shape, budget: .milliseconds(budgetMilliseconds)) { operands in
                for index in 0..<shape.count {
                    sgemm(
                        rowMajor, noTrans, shape.transB == .normal ? noTrans : trans, Int32(shape.m), Int32(shape.n),
                        Int32(shape.k), 1, operands.a + index * operands.aSize, Int32(operands.lda),
                        operands.b + index * operands.bSize, Int32(operands.ldb), 0,
                        operands.c + index * operands.cSize, Int32(operands.ldc))
                }
            }
            print("RESULT\t\(shape.name)\t\(threads)T\t\(gflops)")
        }
    }
}

// MARK: - Table

struct ResultTable {
    private var shapes: [String] = []
    private var backends: [String] = []
    private var values: [String: Double] = [:]

    mutating func add(_ shape: String, _ backend: String, _ gflops: Double) {
        if !shapes.contains(shape) { shapes.append(shape) }
        if !backends.contains(backend) { backends.append(backend) }
        values[shape + "|" + backend] = max(values[shape + "|" + backend] ?? 0, gflops)
    }

    func print(peak: Double) {
        Swift.print("GFLOP/s (best of repeated calls over the run; in brackets the ratio to the best single-core rate)")
        let shapeWidth = (shapes.map(\.count).max() ?? 10) + 2
        let columnWidth = 22
        var header = pad("shape", shapeWidth)
        for backend in backends { header += pad(backend, columnWidth) }
        Swift.print(header)
        for shape in shapes {
            var line = pad(shape, shapeWidth)
            for backend in backends {
                if let value = values[shape + "|" + backend] {
                    line += pad("\(format(value, 1)) (\(format(value / peak, 2)))", columnWidth)
                } else {
                    line += pad("-", columnWidth)
                }
            }
            Swift.print(line)
        }
    }
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

func format(_ value: Double, _ decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
}

// MARK: - Attention layer

/// Whole attention (QKᵀ, masked softmax, ·V) of a batch, one thread and two threads over (item, head).
func printAttentionTimes(budget: Duration) {
    let (batch, tokens, heads, headDim) = (32, 128, 12, 32)
    let hidden = heads * headDim
    let count = batch * tokens * hidden
    let q = UnsafeMutablePointer<Float>.allocate(capacity: count)
    let k = UnsafeMutablePointer<Float>.allocate(capacity: count)
    let v = UnsafeMutablePointer<Float>.allocate(capacity: count)
    let output = UnsafeMutablePointer<Float>.allocate(capacity: count)
    let probabilities = UnsafeMutablePointer<Float>.allocate(capacity: batch * heads * tokens * tokens)
    let mask = UnsafeMutablePointer<Float>.allocate(capacity: batch * tokens)
    defer {
        for pointer in [q, k, v, output, probabilities, mask] { pointer.deallocate() }
    }
    for i in 0..<count {
        q[i] = Float(i % 11) * 0.03 - 0.15
        k[i] = Float(i % 7) * 0.05 - 0.15
        v[i] = Float(i % 5) * 0.1 - 0.2
    }
    for i in 0..<(batch * tokens) { mask[i] = i % tokens < 100 ? 0 : Softmax.maskedScore }
    let flops = Double(batch * heads) * 2 * (2 * Double(tokens * tokens * headDim))
    print("Attention.multiHead, batch 32 × 128 tokens, 12 heads of 32 (QKᵀ, masked softmax, ·V):")
    for threads in [1, 2] {
        let time = bestTime(budget: budget) {
            Attention.multiHead(
                queries: q, keys: k, values: v, inputRowStride: hidden, batch: batch, sequenceLength: tokens,
                heads: heads, headDim: headDim, keyMask: mask, probabilities: probabilities, output: output,
                threads: threads)
        }
        print("  \(threads) thread(s): \(format(time * 1000, 2)) ms, \(format(flops / time / 1e9, 1)) GFLOP/s")
    }
}

// MARK: - Element-wise kernels

/// ns/element of each element-wise kernel, fast and reference, on a 512 × 1536 buffer (a BERT intermediate).
func printElementwiseTimes(budget: Duration) {
    let (rows, cols) = (512, 1536)
    let count = rows * cols
    let x = UnsafeMutablePointer<Float>.allocate(capacity: count)
    let y = UnsafeMutablePointer<Float>.allocate(capacity: count)
    let row = UnsafeMutablePointer<Float>.allocate(capacity: cols)
    let row2 = UnsafeMutablePointer<Float>.allocate(capacity: cols)
    defer {
        for pointer in [x, y, row, row2] { pointer.deallocate() }
    }
    for i in 0..<count { x[i] = Float(i % 97) * 0.08 - 4 }
    for i in 0..<cols {
        row[i] = 1 + Float(i % 5) * 0.01
        row2[i] = i % 9 == 8 ? Softmax.maskedScore : 0
    }
    let kernels: [(String, () -> Void, () -> Void)] = [
        (
            "add bias", { Elementwise.addBias(y, bias: row, rows: rows, cols: cols) },
            { Elementwise.Reference.addBias(y, bias: row, rows: rows, cols: cols) }
        ),
        (
            "residual add", { Elementwise.add(x, y, into: y, count: count) },
            { Elementwise.Reference.add(x, y, into: y, count: count) }
        ),
        (
            "layer norm",
            { Normalization.layerNorm(x, into: y, gamma: row, beta: row, rows: rows, cols: cols, epsilon: 1e-12) },
            {
                Normalization.Reference.layerNorm(
                    x, into: y, gamma: row, beta: row, rows: rows, cols: cols, epsilon: 1e-12)
            }
        ),
        (
            "gelu (erf)", { Activation.gelu(x, into: y, count: count) },
            { Activation.Reference.gelu(x, into: y, count: count) }
        ),
        (
            "relu", { Activation.relu(x, into: y, count: count) },
            { Activation.Reference.relu(x, into: y, count: count) }
        ),
        (
            "silu", { Activation.silu(x, into: y, count: count) },
            { Activation.Reference.silu(x, into: y, count: count) }
        ),
        (
            "tanh", { Activation.tanh(x, into: y, count: count) },
            { Activation.Reference.tanh(x, into: y, count: count) }
        ),
        (
            "sigmoid", { Activation.sigmoid(x, into: y, count: count) },
            { Activation.Reference.sigmoid(x, into: y, count: count) }
        ),
        (
            "masked softmax", { Softmax.forward(x, into: y, rows: rows, cols: cols, mask: row2) },
            { Softmax.Reference.forward(x, into: y, rows: rows, cols: cols, mask: row2) }
        ),
    ]
    print("Element-wise kernels, ns/element on \(rows)×\(cols) floats (fast | reference | speed-up):")
    for (name, fast, reference) in kernels {
        y.initialize(repeating: 0.5, count: count)
        let fastTime = bestTime(budget: budget, fast) / Double(count) * 1e9
        let referenceTime = bestTime(budget: budget, reference) / Double(count) * 1e9
        print(
            "  \(pad(name, 16)) \(pad(format(fastTime, 3), 8)) | \(pad(format(referenceTime, 3), 8)) | "
                + "\(format(referenceTime / fastTime, 1))x")
    }
}

/// Max errors of the fast activations against Foundation in Double, over [-9, 9] in steps of 1/4096.
func printAccuracy() {
    let inputs = stride(from: -9.0, through: 9.0, by: 1.0 / 4096).map { Float($0) }
    var outputs = [Float](repeating: 0, count: inputs.count)
    outputs.withUnsafeMutableBufferPointer { Activation.gelu(inputs, into: $0.baseAddress!, count: inputs.count) }
    var worstGELU = 0.0
    for (x, y) in zip(inputs, outputs) {
        let exact = 0.5 * Double(x) * (1 + Foundation.erf(Double(x) / 2.0.squareRoot()))
        worstGELU = max(worstGELU, abs(Double(y) - exact) / max(1, abs(exact)))
    }
    print("Accuracy: GELU max error |fast − exact| / max(1, |exact|) on [-9, 9]: \(String(format: "%.2e", worstGELU))")
}

// MARK: - Machine

func cpuModelName() -> String {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
    let line = text.split(separator: "\n").first { $0.hasPrefix("model name") }
    return line.flatMap { $0.split(separator: ":", maxSplits: 1).last }.map { $0.trimmingCharacters(in: .whitespaces) }
        ?? "unknown CPU"
}

/// The 1-minute load average, as /proc/loadavg gives it.
func loadAverage() -> String {
    guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
    return text.split(separator: " ").first.map(String.init) ?? "unknown"
}

func cpuFlags() -> Set<String> {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
        let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
    else { return [] }
    return Set(line.split(separator: " ").map(String.init))
}
