extension Gemm {
    /// The best single-core sgemm rate found by `measurePeakGFLOPS`: the machine's limit that benchmarks report
    /// their figures against.
    public struct PeakMeasurement: Sendable, CustomStringConvertible {
        /// The square size n of the n×n·n×n products timed.
        public var size: Int
        /// Products timed after the warm-up.
        public var repetitions: Int
        /// 2n³ divided by the fastest single product's time.
        public var gflops: Double

        public var description: String {
            "best single-core sgemm \(size)x\(size)x\(size): \(gflops.formatted(decimals: 1)) GFLOP/s"
        }
    }

    /// Measures the best single-core sgemm rate in about `budget` (default a quarter second): square products of
    /// `size` (default 1024, large enough for oneDNN's peak), single-threaded, the fastest of the repetitions.
    public static func measurePeakGFLOPS(size: Int = 1024, budget: Duration = .milliseconds(250)) -> PeakMeasurement {
        precondition(size > 0, "measurePeakGFLOPS: size \(size)")
        let count = size * size
        let a = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: count)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer {
            a.deallocate()
            b.deallocate()
            c.deallocate()
        }
        for index in 0..<count {
            a[index] = Float(index % 7) * 0.25 - 0.5
            b[index] = Float(index % 5) * 0.125 - 0.25
        }
        func product() {
            sgemm(
                .normal, .normal, m: size, n: size, k: size, a: a, lda: size, b: b, ldb: size, c: c, ldc: size,
                threading: .single)
        }
        product()  // warm-up: JIT of oneDNN's kernels, page faults
        let clock = ContinuousClock()
        let start = clock.now
        var best = Duration.seconds(1_000)
        var repetitions = 0
        while repetitions < 3 || (clock.now - start < budget && repetitions < 1_000) {
            let elapsed = clock.measure { product() }
            best = min(best, elapsed)
            repetitions += 1
        }
        let flops = 2 * Double(size) * Double(size) * Double(size)
        return PeakMeasurement(size: size, repetitions: repetitions, gflops: flops / best.seconds / 1e9)
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}

extension Double {
    func formatted(decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (self * scale).rounded() / scale
        let text = String(rounded)
        guard decimals > 0, let dot = text.firstIndex(of: ".") else { return text }
        let fraction = text[text.index(after: dot)...]
        return text + String(repeating: "0", count: max(0, decimals - fraction.count))
    }
}
