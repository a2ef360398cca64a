// quiver-bench codec: Quiver's tensor codec side by side with its peers, on the same bytes in one run.
//
//   quiver-bench codec [--mib 64] [--repeats 3] [--chunk-sizes 1048576[,...]] [--python PATH] [--quiver-only]
//
// For F32, F16 and BF16 adapter-like tensors (N(0, 0.02), fixed seed) it prints the stored/raw ratio and the
// compress and decompress speed (MB/s of raw bytes, best of --repeats) of: Quiver's codec on 1 and 2 threads,
// zlib levels 6 and 1 on the raw bytes, the `gzip -1` binary, and ZipNN when Python can import it. `sha256sum`
// MB/s is printed as the machine's reference. Figures and how to read them: docs/codec.md.
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
    print("zipnn: \(python.map { "\($0.version) via \($0.interpreter)" } ?? "not available (python cannot import zipnn; try --python PATH)")")

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

        var rows: [MeasurementRow] = []
        for chunkSize in options.chunkSizes {
            for threadCount in [1, 2] {
                rows.append(
                    try measureQuiver(raw, format: format, chunkSize: chunkSize, threads: threadCount, options: options))
                print(rows.last!.formatted)
            }
        }
        let quiverRows = rows
        if options.quiverOnly { continue }
        for level: Int32 in [6, 1] {
            rows.append(try measureZlib(raw, level: level, repeats: options.repeats))
            print(rows.last!.formatted)
        }
        rows.append(try CommandRunner.measureGzip(rawFile, bytes: raw.count, scratch: scratch, repeats: options.repeats))
        print(rows.last!.formatted)
        if let python {
            for threadCount in [1, 2] {
                rows.append(try python.measure(rawFile, format: format, threads: threadCount, repeats: options.repeats))
                print(rows.last!.formatted)
            }
        }
        printComparison(quiverRows, against: rows.filter { !quiverRows.contains($0) })
    }
}

// MARK: - Options

private struct CodecBenchmarkOptions {
    var mebibytes = 64
    var repeats = 3
    var chunkSizes = [TensorCodec.defaultChunkSize]
    var python: String?
    /// Only Quiver's rows: for quick iterations on the codec itself.
    var quiverOnly = false

    init(_ arguments: [String]) throws {
        var remaining = arguments[...]
        func value(_ flag: String) throws -> String {
            guard let next = remaining.popFirst() else { throw BenchmarkError("\(flag) needs a value") }
            return next
        }
        while let flag = remaining.popFirst() {
            switch flag {
            case "--mib": mebibytes = try positive(try value(flag), flag)
            case "--repeats": repeats = try positive(try value(flag), flag)
            case "--chunk-sizes":
                chunkSizes = try value(flag).split(separator: ",").map { try positive(String($0), flag) }
            case "--python": python = try value(flag)
            case "--quiver-only": quiverOnly = true
            default:
                throw BenchmarkError(
                    "unknown option \(flag); usage: codec [--mib N] [--repeats N] [--chunk-sizes B[,B...]] [--python PATH] [--quiver-only]")
            }
        }
    }

    private func positive(_ text: String, _ flag: String) throws -> Int {
        guard let number = Int(text), number > 0 else { throw BenchmarkError("\(flag): expected a positive integer, got \(text)") }
        return number
    }
}

private struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Results

/// One line of the table: a codec's ratio and speeds on one tensor.
private struct MeasurementRow: Equatable {
    var name: String
    var ratio: Double?
    var compressMBps: Double
    var decompressMBps: Double?
    var note = ""

    static let heading =
        "  " + "codec".padding(toLength: 34, withPad: " ", startingAt: 0) + "  ratio   compress MB/s   decompress MB/s"

    var formatted: String {
        let ratioText = ratio.map { String(format: "%.4f", $0) } ?? "     -"
        let decompressText = decompressMBps.map { String(format: "%15.0f", $0) } ?? String(repeating: " ", count: 14) + "-"
        return "  " + name.padding(toLength: 34, withPad: " ", startingAt: 0)
            + "  \(ratioText)  \(String(format: "%14.0f", compressMBps))  \(decompressText)"
            + (note.isEmpty ? "" : "  \(note)")
    }
}

/// Prints Quiver's speed as multiples of each peer's, the way the design brief asks performance to be read.
private func printComparison(_ quiverRows: [MeasurementRow], against peers: [MeasurementRow]) {
    for quiver in quiverRows {
        let parts = peers.compactMap { peer -> String? in
            guard let peerDecompress = peer.decompressMBps, peer.ratio != nil else { return nil }
            return String(
                format: "%@ %.1fx/%.1fx", peer.name, quiver.compressMBps / peer.compressMBps,
                (quiver.decompressMBps ?? 0) / peerDecompress)
        }
        print("  \(quiver.name) speed vs peers (compress/decompress): " + parts.joined(separator: ", "))
    }
}

// MARK: - Timing

/// The fastest of `repeats` runs of `body`, in seconds.
private func bestSeconds(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = ContinuousClock.now
        try body()
        let elapsed = ContinuousClock.now - start
        best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
    return best
}

private func megabytesPerSecond(_ bytes: Int, _ seconds: Double) -> Double { Double(bytes) / seconds / 1e6 }

// MARK: - Quiver and zlib, in process

private func measureQuiver(
    _ raw: [UInt8], format: SampleFloatFormat, chunkSize: Int, threads: Int, options: CodecBenchmarkOptions
) throws -> MeasurementRow {
    var encoded: [UInt8] = []
    let compressSeconds = try bestSeconds(options.repeats) {
        encoded = try TensorCodec.compress(raw, elementWidth: format.elementWidth, chunkSize: chunkSize, threadCount: threads)
    }
    var decoded: [UInt8] = []
    let decompressSeconds = try bestSeconds(options.repeats) {
        decoded = try TensorCodec.decompress(encoded, threadCount: threads)
    }
    guard decoded == raw else { throw BenchmarkError("quiver round trip differs for \(format.rawValue)") }
    let chunkLabel = options.chunkSizes.count > 1 ? ", \(chunkSize >> 10) KiB chunks" : ""
    return MeasurementRow(
        name: "quiver \(threads) thread\(threads == 1 ? "" : "s")\(chunkLabel)",
        ratio: Double(encoded.count) / Double(raw.count),
        compressMBps: megabytesPerSecond(raw.count, compressSeconds),
        decompressMBps: megabytesPerSecond(raw.count, decompressSeconds))
}

/// zlib's one-shot `compress2`/`uncompress` (zlib wrapper, Adler-32) on the raw bytes, as most tools use it.
private func measureZlib(_ raw: [UInt8], level: Int32, repeats: Int) throws -> MeasurementRow {
    var encoded = [UInt8](repeating: 0, count: Int(compressBound(uLong(raw.count))))
    var encodedLength = uLong(encoded.count)
    let compressSeconds = try bestSeconds(repeats) {
        encodedLength = uLong(encoded.count)
        let status = compress2(&encoded, &encodedLength, raw, uLong(raw.count), level)
        guard status == Z_OK else { throw BenchmarkError("compress2 returned \(status)") }
    }
    var decoded = [UInt8](repeating: 0, count: raw.count)
    let decompressSeconds = try bestSeconds(repeats) {
        var decodedLength = uLong(decoded.count)
        let status = uncompress(&decoded, &decodedLength, encoded, encodedLength)
        guard status == Z_OK, decodedLength == raw.count else { throw BenchmarkError("uncompress returned \(status)") }
    }
    guard decoded == raw else { throw BenchmarkError("zlib round trip differs") }
    return MeasurementRow(
        name: "zlib level \(level) (raw bytes)", ratio: Double(encodedLength) / Double(raw.count),
        compressMBps: megabytesPerSecond(raw.count, compressSeconds),
        decompressMBps: megabytesPerSecond(raw.count, decompressSeconds))
}

// MARK: - Command-line peers

private enum CommandRunner {
    /// Runs `executable` with `arguments`, stdout to `output` (or /dev/null); returns stdout when not redirected.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], output: URL? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        let pipe = Pipe()
        if let output {
            guard FileManager.default.createFile(atPath: output.path, contents: nil) else {
                throw BenchmarkError("cannot create \(output.path)")
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
            throw BenchmarkError("\(executable) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        return String(decoding: captured, as: UTF8.self)
    }

    static func measureSha256(_ file: URL, bytes: Int, repeats: Int) throws -> MeasurementRow {
        let devNull = URL(fileURLWithPath: "/dev/null")
        let seconds = try bestSeconds(repeats) { try run("sha256sum", [file.path], output: devNull) }
        return MeasurementRow(
            name: "sha256sum (machine reference)", ratio: nil, compressMBps: megabytesPerSecond(bytes, seconds),
            decompressMBps: nil)
    }

    static func measureGzip(_ file: URL, bytes: Int, scratch: URL, repeats: Int) throws -> MeasurementRow {
        let compressed = scratch.appendingPathComponent(file.lastPathComponent + ".gz")
        let compressSeconds = try bestSeconds(repeats) { try run("gzip", ["-1", "-c", file.path], output: compressed) }
        let devNull = URL(fileURLWithPath: "/dev/null")
        let decompressSeconds = try bestSeconds(repeats) {
            try run("gzip", ["-d", "-c", compressed.path], output: devNull)
        }
        let size = try FileManager.default.attributesOfItem(atPath: compressed.path)[.size] as? Int ?? 0
        return MeasurementRow(
            name: "gzip -1 (binary, file to file)", ratio: Double(size) / Double(bytes),
            compressMBps: megabytesPerSecond(bytes, compressSeconds),
            decompressMBps: megabytesPerSecond(bytes, decompressSeconds))
    }
}

// MARK: - ZipNN through Python

private struct ZipNNRunner {
    let interpreter: String
    let version: String

    /// The first Python that can import zipnn: `--python`, `$QUIVER_PYTHON`, `$VIRTUAL_ENV/bin/python`, `python3`,
    /// then the project's shared venv.
    static func locate(preferred: String?) -> ZipNNRunner? {
        let environment = ProcessInfo.processInfo.environment
        let candidates = [preferred, environment["QUIVER_PYTHON"], environment["VIRTUAL_ENV"].map { $0 + "/bin/python" },
                          "python3", "/work/venv/bin/python"].compactMap { $0 }
        for interpreter in candidates {
            let probe = "import importlib.metadata as m, zipnn; print(m.version('zipnn'))"
            if let version = try? CommandRunner.run(interpreter, ["-W", "ignore", "-c", probe]) {
                return ZipNNRunner(interpreter: interpreter, version: "zipnn " + version.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        return nil
    }

    /// ZipNN on the same bytes, timed inside Python (interpreter start-up and file reading excluded).
    func measure(_ file: URL, format: SampleFloatFormat, threads: Int, repeats: Int) throws -> MeasurementRow {
        let dtype = ["F32": "float32", "F16": "float16", "BF16": "bfloat16"][format.rawValue]!
        let script = """
            import sys, time, warnings
            warnings.filterwarnings("ignore")
            from zipnn import ZipNN
            data = open(sys.argv[1], "rb").read()
            z = ZipNN(input_format="byte", bytearray_dtype=sys.argv[2], threads=int(sys.argv[3]))
            def best(f):
                times = []
                for _ in range(int(sys.argv[4])):
                    t = time.perf_counter(); out = f(); times.append(time.perf_counter() - t)
                return min(times), out
            tc, packed = best(lambda: z.compress(data))
            td, restored = best(lambda: z.decompress(packed))
            print(len(packed), tc, td, int(bytes(restored) == data))
            """
        let output = try CommandRunner.run(
            interpreter, ["-c", script, file.path, dtype, String(threads), String(repeats)])
        let fields = output.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        guard fields.count == 4 else { throw BenchmarkError("unexpected ZipNN output: \(output)") }
        let bytes = Double(try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int ?? 1)
        return MeasurementRow(
            name: "\(version) (\(threads) thread\(threads == 1 ? "" : "s"))", ratio: fields[0] / bytes,
            compressMBps: bytes / fields[1] / 1e6, decompressMBps: bytes / fields[2] / 1e6,
            note: fields[3] == 1 ? "" : "round trip NOT identical")
    }
}
