func runCodecBenchmark(_ arguments: [String]) throws { print("codec: not written yet") }
