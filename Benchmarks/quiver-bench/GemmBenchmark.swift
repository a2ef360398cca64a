func runGemmBenchmark(_ arguments: [String]) throws { print("gemm: not written yet") }
