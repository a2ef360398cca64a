// quiver-bench: side-by-side performance measurements (never run by the tests).
// Usage: quiver-bench <adapters|codec|encoder|gemm|hub|realistic|store|tokenizer|training> [options]
import Foundation

let arguments = Array(CommandLine.arguments.dropFirst())
let suites: [String: ([String]) throws -> Void] = [
    "adapters": runAdapterBenchmark,
    "codec": runCodecBenchmark,
    "encoder": runEncoderBenchmark,
    "gemm": runGemmBenchmark,
    "hub": runHubBenchmark,
    "realistic": runRealisticBenchmark,
    "store": runStoreBenchmark,
    "tokenizer": runTokenizerBenchmark,
    "training": runTrainingBenchmark,
]
guard let name = arguments.first, let suite = suites[name] else {
    let names = suites.keys.sorted().joined(separator: "|")
    FileHandle.standardError.write(Data("usage: quiver-bench <\(names)> [options]\n".utf8))
    exit(2)
}
do {
    try suite(Array(arguments.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("quiver-bench: \(error)\n".utf8))
    exit(1)
}
