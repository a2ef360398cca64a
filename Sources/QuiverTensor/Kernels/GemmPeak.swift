extension Gemm {
    /// The best single-core sgemm rate found by `measurePeakGFLOPS`: the machine's limit that benchmarks report
    /// their figures against.
    public struct PeakMeasurement: Sendable, CustomStringConvertible {
        /// The product that reached the rate, as "[m×k]·[k×n]".
        public var shape: String
        /// Products timed, all shapes together, after the warm-ups.
        public var repetitions: Int
        /// 2·m·n·k divided by the fastest single product's time, in 10⁹ floating-point operations per second.
        public var gflops: Double

        public var description: String {
            "best single-core sgemm: \(gflops.formatted(decimals: 1)) GFLOP/s (\(shape))"
        }
    }

    /// Measures the best single-core sgemm rate in about `budget` (default a third of a second): the fastest of
    /// repeated single-threaded oneDNN products, over a 1024³ square and the two BERT feed-forward shapes at 2048
    /// tokens (weights transposed, as `Linear` stores them), whichever is fastest on this machine.
    ///
    /// Call it in the same run as the figures it is a reference for: on a machine shared with other work it moves.
    public static func measurePeakGFLOPS(budget: Duration = .milliseconds(330)) -> PeakMeasurement {
        let shapes: [(m: Int, n: Int, k: Int, transB: Transpose)] = [
            (1024, 1024, 1024, .normal), (2048, 1536, 384, .transposed), (2048, 384, 1536, .transposed),
        ]
        var best = PeakMeasurement(shape: "", repetitions: 0, gflops: 0)
        let clock = ContinuousClock()
        for shape in shapes {
            let (aCount, bCount, cCount) = (shape.m * shape.k, shape.k * shape.n, shape.m * shape.n)
            let a = UnsafeMutablePointer<Float>.allocate(capacity: aCount)
            let b = UnsafeMutablePointer<Float>.allocate(capacity: bCount)
            let c = UnsafeMutablePointer<Float>.allocate(capacity: cCount)
            defer {
                a.deallocate()
                b.deallocate()
                c.deallocate()
            }
            for index in 0..<aCount { a[index] = Float(index % 7) * 0.25 - 0.5 }
            for index in 0..<bCount { b[index] = Float(index % 5) * 0.125 - 0.25 }
            let ldb = shape.transB == .normal ? shape.n : shape.k
            func product() {
                sgemm(
                    .normal, shape.transB, m: shape.m, n: shape.n, k: shape.k, a: a, lda: shape.k, b: b, ldb: ldb,
                    c: c, ldc: shape.n, threading: .single)
            }
            product()  // warm-up: oneDNN's kernel generation, page faults
            let start = clock.now
            var fastest = Duration.seconds(1_000)
            var repetitions = 0
            while repetitions < 3 || (clock.now - start < budget / shapes.count && repetitions < 1_000) {
                fastest = min(fastest, clock.measure { product() })
                repetitions += 1
            }
            best.repetitions += repetitions
            let gflops = 2 * Double(shape.m) * Double(shape.n) * Double(shape.k) / fastest.seconds / 1e9
            if gflops > best.gflops {
                best.gflops = gflops
                best.shape =
                    "[\(shape.m)x\(shape.k)]·[\(shape.k)x\(shape.n)]\(shape.transB == .transposed ? " Bᵀ" : "")"
            }
        }
        return best
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
