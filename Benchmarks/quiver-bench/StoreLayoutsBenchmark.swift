import Foundation
import QuiverModel
import QuiverStore
import QuiverTensor

/// `quiver-bench store --layouts`: the layouts #13 added, beside the standard tools on the same bytes —
/// a sharded BF16 base of `gigabytes` GB (synthetic, 4 shards + index) and a PyTorch `.bin` adapter written by the
/// peer's `torch.save` (skipped when the peer Python has no torch).
func runStoreLayoutsBenchmark(root: String, gigabytes: Double) throws {
    let folder = root + "/sharded-base"
    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let shards = 4
    let totalElements = Int(gigabytes * 1e9) / 2
    // Wide layers, as a 7B decoder has: 4096 × n matrices, values like trained weights (normal, σ 0.02).
    let columns = 4096, rowsPerShard = totalElements / shards / columns
    var random = SeededGenerator(seed: 13)
    var weightMap: [(String, JSONValue)] = []
    var shardPaths: [String] = []
    for shard in 1...shards {
        let name = String(format: "model-%05d-of-%05d.safetensors", shard, shards)
        var tensors: [String: TensorData] = [:]
        let perTensor = rowsPerShard / 8
        for index in 0..<8 {
            let tensorName = "model.layers.\(shard - 1).block.\(index).weight"
            let floats = random.normal(count: perTensor * columns, standardDeviation: 0.02)
            tensors[tensorName] = TensorData(shape: [perTensor, columns], floats: floats, dtype: .bf16)
            weightMap.append((tensorName, .string(name)))
        }
        let path = folder + "/" + name
        try Data(Safetensors.serialize(tensors)).write(to: URL(fileURLWithPath: path))
        shardPaths.append(path)
    }
    let index: JSONValue = .object([("metadata", .object([])), ("weight_map", .object(weightMap.sorted { $0.0 < $1.0 }))])
    try Data(JSONWriter.serialize(index).utf8).write(to: URL(fileURLWithPath: folder + "/model.safetensors.index.json"))
    let config = """
        {"model_type": "llama", "architectures": ["LlamaForCausalLM"], "hidden_size": 4096, "num_hidden_layers": \(shards), \
        "num_attention_heads": 32, "intermediate_size": 11008, "vocab_size": 32000, "max_position_embeddings": 4096}
        """
    try Data(config.utf8).write(to: URL(fileURLWithPath: folder + "/config.json"))
    let bytes = try shardPaths.reduce(0) { $0 + (try FileManager.default.attributesOfItem(atPath: $1)[.size] as! Int) }
    let files = shardPaths.map { "'\($0)'" }.joined(separator: " ")
    print("\nsharded BF16 base: \(shards) shards, \(bytes / 1_000_000) MB")

    var push = Double.infinity
    for attempt in 0..<2 {
        let registry = try Registry(home: root + "/layouts-\(attempt)")
        push = min(push, try Measure.seconds { try registry.addBase(folder: folder, name: "sharded") })
    }
    let sha = Measure.bestShell(2, "sha256sum \(files)")
    let zstd = Measure.bestShell(2, "cat \(files) | zstd -1 -q -c > '\(root)/shards.zst'")
    let gzip = Measure.bestShell(2, "cat \(files) | gzip -1 -c > '\(root)/shards.gz'")
    print("  quiver base add        \(Measure.format(push * 1000, 0)) ms  \(Measure.megabytesPerSecond(bytes, push))")
    for (label, time) in [("sha256sum", sha), ("zstd -1", zstd), ("gzip -1", gzip)] {
        if let time { print("  \(label.padding(toLength: 22, withPad: " ", startingAt: 0)) \(Measure.format(time * 1000, 0)) ms  \(Measure.megabytesPerSecond(bytes, time))") }
    }
    if let sha, let zstd { print("  sha256sum + zstd -1    \(Measure.megabytesPerSecond(bytes, sha + zstd))  → quiver is \(Measure.format((sha + zstd) / push))×") }
    let registry = try Registry(home: root + "/layouts-0")
    let base = try registry.baseModels()[0]
    let pull = try Measure.best(2) {
        try? FileManager.default.removeItem(atPath: root + "/exported")
        try registry.exportBase(named: "sharded", to: root + "/exported")
    }
    let unzstd = Measure.bestShell(2, "zstd -dc -q '\(root)/shards.zst' > '\(root)/unzstd' && sha256sum '\(root)/unzstd'")
    print("  quiver base export     \(Measure.format(pull * 1000, 0)) ms  \(Measure.megabytesPerSecond(bytes, pull))  (verified, written)")
    if let unzstd { print("  zstd -dc + sha256sum   \(Measure.format(unzstd * 1000, 0)) ms  \(Measure.megabytesPerSecond(bytes, unzstd))  → quiver is \(Measure.format(unzstd / pull))×") }
    let zstdSize = (try? FileManager.default.attributesOfItem(atPath: root + "/shards.zst")[.size] as? Int) ?? 0
    print("  stored/raw: \(Measure.format(Double(base.storedSize) / Double(base.size), 3)) (zstd -1: \(Measure.format(Double(zstdSize) / Double(bytes), 3)))")
    // A PyTorch `.bin` adapter written by torch.save: PEFT LoRA r 64 on each of the base's 32 matrices (F32).
    let adapter = root + "/bin-adapter"
    try FileManager.default.createDirectory(atPath: adapter, withIntermediateDirectories: true)
    let script = """
        import json, sys, torch
        torch.manual_seed(0)
        state = {}
        shards, rows = int(sys.argv[2]), int(sys.argv[3])
        for shard in range(shards):
            for block in range(8):
                prefix = f"base_model.model.model.layers.{shard}.block.{block}"
                state[prefix + ".lora_A.weight"] = torch.randn(64, 4096) * 0.02
                state[prefix + ".lora_B.weight"] = torch.randn(rows, 64) * 0.02
        torch.save(state, sys.argv[1] + "/adapter_model.bin")
        json.dump({"peft_type": "LORA", "r": 64, "lora_alpha": 16, "target_modules": ["block"]}, open(sys.argv[1] + "/adapter_config.json", "w"))
        """
    do {
        _ = try runPeer(peerPython(), ["-c", script, adapter, String(shards), String(rowsPerShard / 8)])
    } catch {
        print("\n.bin adapter: skipped (\(error))")
        return
    }
    let binPath = adapter + "/adapter_model.bin"
    let binBytes = try FileManager.default.attributesOfItem(atPath: binPath)[.size] as! Int
    let binPush = try Measure.seconds { try registry.push(Reference(parsing: "bin"), folder: adapter, baseName: "sharded") }
    let binSha = Measure.bestShell(2, "sha256sum '\(binPath)'"), binZstd = Measure.bestShell(2, "zstd -1 -q -c '\(binPath)' > /dev/null")
    print("\n.bin adapter (PEFT LoRA r 64 on 32 modules, \(binBytes / 1_000_000) MB, torch.save zip):")
    print("  quiver push (read, convert, check, store) \(Measure.megabytesPerSecond(binBytes, binPush))")
    if let binSha, let binZstd { print("  sha256sum + zstd -1                       \(Measure.megabytesPerSecond(binBytes, binSha + binZstd))") }
    for path in shardPaths + [root + "/shards.zst", root + "/shards.gz", root + "/unzstd"] { try? FileManager.default.removeItem(atPath: path) }
}
