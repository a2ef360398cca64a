import Foundation
import QuiverModel
import QuiverStore
import QuiverTensor

/// `quiver-bench store`: push and pull throughput against `sha256sum` + `gzip -1` on the same file,
/// adapter push latency, and listing with 10,000 adapters in the catalog (ListingBenchmark.swift).
///
/// Options: `--base DIR` (a Hugging Face folder, e.g. all-MiniLM-L6-v2; default: a synthetic
/// MiniLM-shaped model), `--adapters N` (default 10000), `--layouts GB` (instead: a sharded BF16 base of GB
/// gigabytes and a PyTorch `.bin` adapter, see StoreLayoutsBenchmark.swift), `--listing DIR` (instead: only the
/// listing figures, on the registry in DIR, showing its first task).
func runStoreBenchmark(_ arguments: [String]) throws {
    var baseFolder: String?
    var adapterCount = 10_000
    var layoutGigabytes: Double?
    var listingHome: String?
    var iterator = arguments.makeIterator()
    while let argument = iterator.next() {
        switch argument {
        case "--base": baseFolder = iterator.next()
        case "--adapters": adapterCount = Int(iterator.next() ?? "") ?? adapterCount
        case "--layouts": layoutGigabytes = Double(iterator.next() ?? "") ?? 1
        case "--listing": listingHome = iterator.next()
        default: throw QuiverError(.invalidInput, "unknown option \(argument)")
        }
    }
    let root = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-bench-store-\(getpid())").path
    try? FileManager.default.removeItem(atPath: root)
    defer { try? FileManager.default.removeItem(atPath: root) }
    if let layoutGigabytes {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        return try runStoreLayoutsBenchmark(root: root, gigabytes: layoutGigabytes)
    }
    if let listingHome {
        let first = try Registry(home: listingHome).list().first.map { "\($0.task):\($0.version)" } ?? "none"
        _ = try Registry(home: root + "/empty")
        return try runListingBenchmark(home: listingHome, empty: root + "/empty", showing: first)
    }
    let shape = SampleFolders.SampleConfig(hiddenSize: 384, layerCount: 6, headCount: 12, intermediateSize: 1536, maxPositions: 512)
    if baseFolder == nil {
        baseFolder = root + "/base"
        try SampleFolders.writeBaseModel(to: baseFolder!, config: shape, seed: 1)
    }
    let weights = baseFolder! + "/model.safetensors"
    let weightBytes = try FileManager.default.attributesOfItem(atPath: weights)[.size] as! Int
    print("store benchmark — base weights \(weights) (\(weightBytes / 1_000_000) MB), \(ProcessInfo.processInfo.activeProcessorCount) cores")

    // MARK: Push (import) of the base model vs sha256sum + gzip -1
    var pushSeconds = Double.infinity
    for attempt in 0..<3 {
        let registry = try Registry(home: root + "/registry-\(attempt)")
        pushSeconds = min(pushSeconds, try Measure.seconds { try registry.addBase(folder: baseFolder!, name: "base") })
    }
    let sha = Measure.bestShell(3, "sha256sum '\(weights)'")
    let gzip = Measure.bestShell(3, "gzip -1 -c '\(weights)' > '\(root)/weights.gz'")
    print("\npush (import, hash, compress, fsync) of \(weightBytes / 1_000_000) MB of F32 weights:")
    print("  quiver push            \(Measure.format(pushSeconds * 1000, 0)) ms  \(Measure.megabytesPerSecond(weightBytes, pushSeconds))")
    if let sha, let gzip {
        print("  sha256sum              \(Measure.format(sha * 1000, 0)) ms  \(Measure.megabytesPerSecond(weightBytes, sha))")
        print("  gzip -1                \(Measure.format(gzip * 1000, 0)) ms  \(Measure.megabytesPerSecond(weightBytes, gzip))")
        print("  sha256sum + gzip -1    \(Measure.format((sha + gzip) * 1000, 0)) ms  \(Measure.megabytesPerSecond(weightBytes, sha + gzip))  → quiver is \(Measure.format((sha + gzip) / pushSeconds))× faster")
    }

    // MARK: Pull (verified read of the weights blob to a file) vs gunzip + sha256sum
    let registry = try Registry(home: root + "/registry-0")
    let show = try registry.baseModels()[0]
    let blobRow = try registry.storedBlobs().first { $0.contentSize == weightBytes || $0.size > weightBytes / 2 }!
    let blob = try blobRow.descriptor()
    let pullPath = root + "/pulled.safetensors"
    let pullSeconds = try Measure.best(3) {
        FileManager.default.createFile(atPath: pullPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: pullPath))
        try registry.blobs.read(blob) { handle.write(Data($0)) }
        try handle.synchronize()
        try handle.close()
    }
    let gunzip = Measure.bestShell(3, "gzip -dc '\(root)/weights.gz' > '\(root)/gunzipped' && sha256sum '\(root)/gunzipped'")
    print("\npull (verify stored digest, decode, verify content digest, write) of the same weights:")
    print("  quiver pull            \(Measure.format(pullSeconds * 1000, 0)) ms  \(Measure.megabytesPerSecond(blob.contentSize, pullSeconds))")
    if let gunzip {
        print("  gzip -dc + sha256sum   \(Measure.format(gunzip * 1000, 0)) ms  \(Measure.megabytesPerSecond(weightBytes, gunzip))  → quiver is \(Measure.format(gunzip / pullSeconds))× faster")
    }
    print("  stored/raw: \(Measure.format(Double(show.storedSize) / Double(show.size), 3)) (gzip -1: \(Measure.format(Double((try? FileManager.default.attributesOfItem(atPath: root + "/weights.gz")[.size] as? Int) ?? 0) / Double(weightBytes), 3)))")

    // MARK: Adapter push latency and list with many adapters
    let adapters = root + "/adapters"
    for index in 0..<10 {
        try SampleFolders.writeAdapter(to: adapters + "/a\(index)", name: "a\(index)", config: shape, seed: UInt64(100 + index))
    }
    let adapterBytes = try FileManager.default.contentsOfDirectory(atPath: adapters + "/a0").reduce(0) {
        $0 + ((try FileManager.default.attributesOfItem(atPath: adapters + "/a0/" + $1)[.size] as? Int) ?? 0)
    }
    let distinct = try Measure.seconds {
        for index in 0..<10 { try registry.push(Reference(parsing: "task-\(index)"), folder: adapters + "/a\(index)") }
    }
    let export = try Measure.seconds {
        for index in 0..<10 { try registry.export(Reference(parsing: "task-\(index)"), to: root + "/exported-\(index)") }
    }
    print("\nadapter (seq_bn + head on the 384-wide base, \(adapterBytes / 1000) kB): push \(Measure.format(distinct * 100, 1)) ms, pull \(Measure.format(export * 100, 1)) ms each")

    let catalogFill = try Measure.seconds {
        for index in 10..<adapterCount {
            try registry.push(Reference(parsing: "task-\(index)"), folder: adapters + "/a\(index % 10)")
        }
    }
    print("\(adapterCount - 10) more pushes of already-stored content (dedupe: only config + manifest written): \(Measure.format(catalogFill / Double(max(adapterCount - 10, 1)) * 1000, 2)) ms each")
    var rows = 0
    let listSeconds = try Measure.best(3) { rows = try registry.list().count }
    print("list with \(rows) adapters: \(Measure.format(listSeconds * 1000, 1)) ms (library)")
    _ = try Registry(home: root + "/empty")
    try runListingBenchmark(home: root + "/registry-0", empty: root + "/empty", showing: "task-\(adapterCount / 2)")
}
