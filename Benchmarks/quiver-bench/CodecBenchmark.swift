// quiver-bench codec: Quiver's tensor codec side by side with its peers, on the same bytes in one run.
//
//   quiver-bench codec [--mib 64] [--repeats 3] [--chunk-sizes 1048576[,...]] [--threads 1,2] [--python PATH]
//                      [--quiver-only]
//
// For F32, F16 and BF16 adapter-like tensors (N(0, 0.02), fixed seed) it prints the stored/raw ratio and the
// compress and decompress speed (MB/s of raw bytes, best of --repeats) of: Quiver's codec on 1 and 2 threads,
// zlib levels 6 and 1 on the raw bytes, the `gzip -1` binary, and ZipNN when Python can import it. `sha256sum`
// MB/s is printed as the machine's reference. Each speed is given per wall-clock second and, in parentheses, per
// CPU second (user + system, all threads): on a shared machine the CPU figure is the steadier one, the wall
// figure the one that shows what a second thread buys. Figures and how to read them: docs/codec.md.
import CZlib
import Foundation
import QuiverCodec

func runCodecBenchmark(_ arguments: [String]) throws {
    let options = try CodecBenchmarkOptions(arguments)
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-bench-codec-\(getpid())")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }

    let python = options.quiverOnly ? nil : ZipNNRunner.locate(preferred: options.python)
    print("codec benchmark: \(options.mebibytes) MiB per format, N(0, 0.02) weights, best of \(options.repeats)")
    print("speeds: MB/s of raw bytes per wall second (per CPU second)")
    let zipnnStatus = python.map { "\($0.version) via \($0.interpreter)" }
    print("zipnn: " + (zipnnStatus ?? "not available (python cannot import zipnn; try --python PATH)"))

    for format in SampleFloatFormat.allCases {
        let count = options.mebibytes << 20 / format.elementWidth
        let raw = SampleWeights.normal(count: count, standardDeviation: 0.02, format: format, seed: 2024)
        let rawFile = scratch.appendingPathComponent("\(format.rawValue).raw")
        try Data(raw).write(to: rawFile)

        print("\n\(format.rawValue): \(raw.count >> 20) MiB")
        print(MeasurementRow.heading)
        if !options.quiverOnly {
            print(try CommandRunner.measureSha256(rawFile, bytes: raw.count, repeats: options.repeats).formatted)
        }

        var quiverRows: [MeasurementRow] = []
        for chunkSize in options.chunkSizes {
            for threadCount in options.threadCounts {
                let row = try measureQuiver(
                    raw, format: format, chunkSize: chunkSize, threads: threadCount, options: options)
                print(row.formatted)
                quiverRows.append(row)
            }
        }
        if options.quiverOnly { continue }

        var peerRows: [MeasurementRow] = []
        for level: Int32 in [6, 1] {
            peerRows.append(try measureZlib(raw, level: level, repeats: options.repeats))
            print(peerRows.last!.formatted)
        }
        peerRows.append(
            try CommandRunner.measureGzip(rawFile, bytes: raw.count, scratch: scratch, repeats: options.repeats))
        print(peerRows.last!.formatted)
        if let python {
            for threadCount in [1, 2] {
                peerRows.append(
                    try python.measure(rawFile, format: format, threads: threadCount, repeats: options.repeats))
                print(peerRows.last!.formatted)
            }
        }
        printComparison(quiverRows, against: peerRows)
    }
}

// MARK: - Options

private struct CodecBenchmarkOptions {
    var mebibytes = 64
    var repeats = 3
    var chunkSizes = [TensorCodec.defaultChunkSize]
    var threadCounts = [1, 2]
    var python: String?
    /// Only Quiver's rows: for quick iterations on the codec itself.
    var quiverOnly = false

    init(_ arguments: [String]) throws {
        var remaining = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let next = remaining.popFirst() else { throw BenchError("\(flag) needs a value") }
            return next
        }
        func positives(_ flag: String) throws -> [Int] {
            try value(flag).split(separator: ",").map { try positive(String($0), flag) }
        }
        while let flag = remaining.popFirst() {
            switch flag {
            case "--mib": mebibytes = try positive(try value(flag), flag)
            case "--repeats": repeats = try positive(try value(flag), flag)
            case "--chunk-sizes": chunkSizes = try positives(flag)
            case "--threads": threadCounts = try positives(flag)
            case "--python": python = try value(flag)
            case "--quiver-only": quiverOnly = true
            default:
                throw BenchError(
                    "unknown option \(flag); usage: codec [--mib N] [--repeats N] [--chunk-sizes B[,B...]] "
                        + "[--threads N[,N...]] [--python PATH] [--quiver-only]")
            }
        }
    }

    private func positive(_ text: String, _ flag: String) throws -> Int {
        guard let number = Int(text), number > 0 else {
            throw BenchError("\(flag): expected a positive integer, got \(text)")
        }
        return number
    }
}

// MARK: - Timing

/// The best wall-clock and CPU times over several runs, in seconds (each minimum taken separately).
private struct Timing {
    var wall = Double.infinity
    var cpu = Double.infinity

    /// Throughput in MB/s (10^6 bytes) for `bytes` bytes: per wall second and per CPU second.
    func megabytesPerSecond(_ bytes: Int) -> (wall: Double, cpu: Double) {
        (Double(bytes) / wall / 1e6, Double(bytes) / cpu / 1e6)
    }
}

/// Whose CPU time a measurement counts: this process (all threads) or the child processes it waited for.
private enum CPUAccount {
    case thisProcess
    case children

    var seconds: Double {
        var usage = rusage()
        #if os(Linux)
            let who = self == .thisProcess ? RUSAGE_SELF.rawValue : RUSAGE_CHILDREN.rawValue
        #else
            let who = self == .thisProcess ? RUSAGE_SELF : RUSAGE_CHILDREN
        #endif
        getrusage(who, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) * 1e-6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}

/// Runs `body` `repeats` times and keeps the best wall and CPU times.
private func measure(_ repeats: Int, cpu account: CPUAccount = .thisProcess, _ body: () throws -> Void) rethrows
    -> Timing
{
    var best = Timing()
    for _ in 0..<repeats {
        let cpuStart = account.seconds
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        best.cpu = min(best.cpu, account.seconds - cpuStart)
        best.wall = min(best.wall, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
    return best
}

// MARK: - Results

/// One line of the table: a codec's ratio and speeds on one tensor.
private struct MeasurementRow {
    var name: String
    var ratio: Double?
    var compress: (wall: Double, cpu: Double)
    var decompress: (wall: Double, cpu: Double)?
    var note = ""

    static let nameWidth = 34
    static let heading =
        "  " + "codec".padding(toLength: nameWidth, withPad: " ", startingAt: 0)
        + "   ratio   compress MB/s (cpu)   decompress MB/s (cpu)"

    var formatted: String {
        func speeds(_ pair: (wall: Double, cpu: Double)?) -> String {
            guard let pair else { return "          -           " }
            return String(format: "%10.0f (%6.0f)     ", pair.wall, pair.cpu)
        }
        let ratioText = ratio.map { String(format: "%.4f", $0) } ?? "     -"
        return "  " + name.padding(toLength: Self.nameWidth, withPad: " ", startingAt: 0) + "  \(ratioText)"
            + speeds(compress) + speeds(decompress) + note
    }
}

/// Prints Quiver's wall-clock speed as multiples of each peer's, the way the design brief asks speed to be read.
private func printComparison(_ quiverRows: [MeasurementRow], against peers: [MeasurementRow]) {
    for quiver in quiverRows {
        print("  \(quiver.name), speed as a multiple of (compress/decompress):")
        for peer in peers {
            guard let peerDecompress = peer.decompress, let decompress = quiver.decompress else { continue }
            print(
                String(
                    format: "      %@: %.1fx / %.1fx", peer.name, quiver.compress.wall / peer.compress.wall,
                    decompress.wall / peerDecompress.wall))
        }
    }
}

// MARK: - Quiver and zlib, in process

private func measureQuiver(
    _ raw: [UInt8], format: SampleFloatFormat, chunkSize: Int, threads: Int, options: CodecBenchmarkOptions
) throws -> MeasurementRow {
    var encoded: [UInt8] = []
    let compress = try measure(options.repeats) {
        encoded = try TensorCodec.compress(
            raw, elementWidth: format.elementWidth, chunkSize: chunkSize, threadCount: threads)
    }
    var decoded: [UInt8] = []
    let decompress = try measure(options.repeats) {
        decoded = try TensorCodec.decompress(encoded, threadCount: threads)
    }
    guard decoded == raw else { throw BenchError("quiver round trip differs for \(format.rawValue)") }
    let chunkLabel = options.chunkSizes.count > 1 ? ", \(chunkSize >> 10) KiB chunks" : ""
    return MeasurementRow(
        name: "quiver \(threads) thread\(threads == 1 ? "" : "s")\(chunkLabel)",
        ratio: Double(encoded.count) / Double(raw.count),
        compress: compress.megabytesPerSecond(raw.count), decompress: decompress.megabytesPerSecond(raw.count))
}

/// zlib's one-shot `compress2`/`uncompress` (zlib wrapper, Adler-32) on the raw bytes, as most tools use it.
private func measureZlib(_ raw: [UInt8], level: Int32, repeats: Int) throws -> MeasurementRow {
    var encoded = [UInt8](repeating: 0, count: Int(compressBound(uLong(raw.count))))
    var encodedLength = uLong(encoded.count)
    let compress = try measure(repeats) {
        encodedLength = uLong(encoded.count)
        let status = compress2(&encoded, &encodedLength, raw, uLong(raw.count), level)
        guard status == Z_OK else { throw BenchError("compress2 returned \(status)") }
    }
    var decoded = [UInt8](repeating: 0, count: raw.count)
    let decompress = try measure(repeats) {
        var decodedLength = uLong(decoded.count)
        let status = uncompress(&decoded, &decodedLength, encoded, encodedLength)
        guard status == Z_OK, decodedLength == raw.count else { throw BenchError("uncompress returned \(status)") }
    }
    guard decoded == raw else { throw BenchError("zlib round trip differs") }
    return MeasurementRow(
        name: "zlib level \(level) (raw bytes)", ratio: Double(encodedLength) / Double(raw.count),
        compress: compress.megabytesPerSecond(raw.count), decompress: decompress.megabytesPerSecond(raw.count))
}

// MARK: - Command-line peers

private enum CommandRunner {
    /// Runs `executable` (looked up on PATH) with `arguments`, stdout to `output`; returns stdout when `output` is
    /// nil.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], output: URL? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let pipe = Pipe()
        if let output {
            guard FileManager.default.createFile(atPath: output.path, contents: nil) else {
                throw BenchError("cannot create \(output.path)")
            }
            process.standardOutput = try FileHandle(forWritingTo: output)
        } else {
            process.standardOutput = pipe
        }
        process.standardError = FileHandle.nullDevice
        try process.run()
        let captured = output == nil ? pipe.fileHandleForReading.readDataToEndOfFile() : Data()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError(
                "\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        return String(decoding: captured, as: UTF8.self)
    }

    static func measureSha256(_ file: URL, bytes: Int, repeats: Int) throws -> MeasurementRow {
        let devNull = URL(fileURLWithPath: "/dev/null")
        let timing = try measure(repeats, cpu: .children) { try run("sha256sum", [file.path], output: devNull) }
        return MeasurementRow(
            name: "sha256sum (machine reference)", ratio: nil, compress: timing.megabytesPerSecond(bytes),
            decompress: nil)
    }

    static func measureGzip(_ file: URL, bytes: Int, scratch: URL, repeats: Int) throws -> MeasurementRow {
        let compressed = scratch.appendingPathComponent(file.lastPathComponent + ".gz")
        let compress = try measure(repeats, cpu: .children) {
            try run("gzip", ["-1", "-c", file.path], output: compressed)
        }
        let devNull = URL(fileURLWithPath: "/dev/null")
        let decompress = try measure(repeats, cpu: .children) {
            try run("gzip", ["-d", "-c", compressed.path], output: devNull)
        }
        let size = try FileManager.default.attributesOfItem(atPath: compressed.path)[.size] as? Int ?? 0
        return MeasurementRow(
            name: "gzip -1 (binary, file to file)", ratio: Double(size) / Double(bytes),
            compress: compress.megabytesPerSecond(bytes), decompress: decompress.megabytesPerSecond(bytes))
    }
}

// MARK: - ZipNN through Python

private struct ZipNNRunner {
    let interpreter: String
    let version: String

    /// The first Python that can import zipnn: `--python`, then `peerPython()`, then `python3`.
    static func locate(preferred: String?) -> ZipNNRunner? {
        let candidates = [preferred, peerPython(), "python3"]
        let probe = "import importlib.metadata as m, zipnn; print(m.version('zipnn'))"
        for interpreter in candidates.compactMap({ $0 }) {
            if let version = try? CommandRunner.run(interpreter, ["-W", "ignore", "-c", probe]) {
                let trimmed = version.trimmingCharacters(in: .whitespacesAndNewlines)
                return ZipNNRunner(interpreter: interpreter, version: "zipnn " + trimmed)
            }
        }
        return nil
    }

    /// ZipNN on the same bytes, timed inside Python (interpreter start-up and file reading excluded), with a
    /// check that the round trip gives the input back.
    func measure(_ file: URL, format: SampleFloatFormat, threads: Int, repeats: Int) throws -> MeasurementRow {
        let dtype = ["F32": "float32", "F16": "float16", "BF16": "bfloat16"][format.rawValue]!
        let script = """
            import sys, time, warnings
            warnings.filterwarnings("ignore")
            from zipnn import ZipNN
            data = open(sys.argv[1], "rb").read()
            z = ZipNN(input_format="byte", bytearray_dtype=sys.argv[2], threads=int(sys.argv[3]))
            def best(f):
                wall, cpu = [], []
                for _ in range(int(sys.argv[4])):
                    w, c = time.perf_counter(), time.process_time()
                    out = f()
                    wall.append(time.perf_counter() - w); cpu.append(time.process_time() - c)
                return min(wall), min(cpu), out
            cw, cc, packed = best(lambda: z.compress(data))
            dw, dc, restored = best(lambda: z.decompress(packed))
            print(len(data), len(packed), cw, cc, dw, dc, int(bytes(restored) == data))
            """
        let output = try CommandRunner.run(
            interpreter, ["-c", script, file.path, dtype, String(threads), String(repeats)])
        let fields = output.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        guard fields.count == 7 else { throw BenchError("unexpected ZipNN output: \(output)") }
        let bytes = fields[0]
        return MeasurementRow(
            name: "\(version) (\(threads) thread\(threads == 1 ? "" : "s"))", ratio: fields[1] / bytes,
            compress: (bytes / fields[2] / 1e6, bytes / fields[3] / 1e6),
            decompress: (bytes / fields[4] / 1e6, bytes / fields[5] / 1e6),
            note: fields[6] == 1 ? "" : "  round trip NOT identical")
    }
}
