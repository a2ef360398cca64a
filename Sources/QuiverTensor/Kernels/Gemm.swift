import CDNNL

/// Single-precision matrix products on row-major buffers: `C = alpha · op(A) · op(B) + beta · C`.
///
/// Layout: every matrix is row-major with a leading dimension (the distance between the starts of two rows, ≥ the
/// row length), as in row-major BLAS. `op(A)` is (m, k) and `op(B)` is (k, n); A is stored (m, k) with `lda ≥ k`,
/// or (k, m) with `lda ≥ m` when transposed, and likewise B. C is (m, n) with `ldc ≥ n`.
///
/// ```swift
/// // y (tokens, out) = x (tokens, in) · Wᵀ, with W (out, in) as PyTorch stores a Linear weight
/// Gemm.sgemm(.normal, .transposed, m: tokens, n: out, k: inFeatures,
///            a: x, lda: inFeatures, b: weight, ldb: inFeatures, c: y, ldc: out)
/// ```
public enum Gemm {
    /// Whether an operand is used as stored or transposed.
    public enum Transpose: Sendable, Hashable, CaseIterable {
        case normal
        case transposed

        @usableFromInline var blasFlag: CChar { self == .normal ? CChar(UInt8(ascii: "N")) : CChar(UInt8(ascii: "T")) }
    }

    /// How one product uses the cores.
    public enum Threading: Sendable, Hashable {
        /// One oneDNN call on the calling thread, OpenMP limited to one thread. The default: the other core is
        /// better used on independent work (`Parallel.forEachChunk` over batch items or heads).
        case single
        /// The output cut into `threads` blocks of rows (or of columns when it has fewer rows than columns), each
        /// a single-threaded oneDNN call, run with `Parallel.forEachChunk`.
        case splitOutput(threads: Int)
        /// One oneDNN call with `threads` OpenMP threads: oneDNN's own parallelisation. Fast on an idle machine
        /// (1.5–2× with two), but its threads spin-wait for each other, and it fell below 5 GFLOP/s when another
        /// process held a core (docs/kernels.md). For measurement, or a latency-bound call on a dedicated machine.
        case openMP(threads: Int)

        /// The threads a split step shares (`splitOutput`), else 1: what the encoder's other split steps — heads,
        /// LayerNorms, an adapter's rows — use beside the products.
        public var splitThreads: Int {
            if case .splitOutput(let threads) = self { threads } else { 1 }
        }
    }

    /// The threading used when none is given. Single-threaded: callers that have independent work (batch items,
    /// heads) get more from splitting that work than from splitting each product; see docs/kernels.md.
    public static let defaultThreading: Threading = .single

    // MARK: - oneDNN

    /// `C = alpha · op(A) · op(B) + beta · C` with oneDNN's `dnnl_sgemm` (see `Gemm` for the layout).
    ///
    /// With `beta == 0`, C is only written (it may hold NaNs). Invalid sizes are a programming error and stop the
    /// program.
    public static func sgemm(
        _ transA: Transpose, _ transB: Transpose,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        threading: Threading = defaultThreading
    ) {
        checkShapes(transA, transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            scaleOutput(c, m: m, n: n, ldc: ldc, beta: beta)
            return
        }
        switch threading {
        case .single:
            callOneDNN(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, openMPThreads: 1)
        case .openMP(let threads):
            callOneDNN(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, openMPThreads: max(1, threads))
        case .splitOutput where m * n * k < smallestSplitProduct:
            // Too small to be worth waking another thread for: the join would cost more than the half saved.
            callOneDNN(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, openMPThreads: 1)
        case .splitOutput(let threads):
            splitOutput(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads: max(1, threads))
        }
    }

    /// The fewest multiply-adds (m·n·k) a `.splitOutput` product is split for: about 20 µs of one core's work.
    /// Below it (an adapter's bottleneck products over a few rows of a mixed batch) the product runs on the calling
    /// thread — handing half of it to another thread and waiting for it costs more, and much more when that core is
    /// busy with other work (the server's connections).
    public static let smallestSplitProduct = 1 << 20

    private static func splitOutput(
        _ transA: Transpose, _ transB: Transpose, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, threads: Int
    ) {
        nonisolated(unsafe) let (a, b, c) = (a, b, c)
        if m >= n {
            // Rows i0..<i1 of C need rows i0..<i1 of op(A): rows of A, or columns of a transposed A.
            Parallel.forEachChunk(of: m, threads: threads) { rows in
                let aBlock = transA == .normal ? a + rows.lowerBound * lda : a + rows.lowerBound
                callOneDNN(
                    transA, transB, rows.count, n, k, alpha, aBlock, lda, b, ldb, beta,
                    c + rows.lowerBound * ldc, ldc, openMPThreads: 1)
            }
        } else {
            // Columns j0..<j1 of C need columns j0..<j1 of op(B): columns of B, or rows of a transposed B.
            Parallel.forEachChunk(of: n, threads: threads) { columns in
                let bBlock = transB == .normal ? b + columns.lowerBound : b + columns.lowerBound * ldb
                callOneDNN(
                    transA, transB, m, columns.count, k, alpha, a, lda, bBlock, ldb, beta,
                    c + columns.lowerBound, ldc, openMPThreads: 1)
            }
        }
    }

    private static func callOneDNN(
        _ transA: Transpose, _ transB: Transpose, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, openMPThreads: Int
    ) {
        OpenMPThreads.setForCurrentThread(openMPThreads)
        let status = dnnl_sgemm(
            transA.blasFlag, transB.blasFlag, dnnl_dim_t(m), dnnl_dim_t(n), dnnl_dim_t(k), alpha,
            a, dnnl_dim_t(lda), b, dnnl_dim_t(ldb), beta, c, dnnl_dim_t(ldc))
        precondition(
            status == dnnl_success, "dnnl_sgemm failed with status \(status.rawValue) for m \(m) n \(n) k \(k)")
    }

    /// C = beta · C, the whole product when k is 0 (with beta 0, C is only written).
    @usableFromInline
    static func scaleOutput(_ c: UnsafeMutablePointer<Float>, m: Int, n: Int, ldc: Int, beta: Float) {
        for row in 0..<m {
            for col in 0..<n { c[row * ldc + col] = beta == 0 ? 0 : beta * c[row * ldc + col] }
        }
    }

    // MARK: - Shapes

    @usableFromInline
    static func checkShapes(
        _ transA: Transpose, _ transB: Transpose, m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int
    ) {
        precondition(m >= 0 && n >= 0 && k >= 0, "Gemm: negative size m \(m) n \(n) k \(k)")
        precondition(lda >= max(1, transA == .normal ? k : m), "Gemm: lda \(lda) too small for A \(transA)")
        precondition(ldb >= max(1, transB == .normal ? n : k), "Gemm: ldb \(ldb) too small for B \(transB)")
        precondition(ldc >= max(1, n), "Gemm: ldc \(ldc) < n \(n)")
    }

    // MARK: - Reference

    /// Plain loops that the fast kernels are tested against.
    public enum Reference {
        /// `C = alpha · op(A) · op(B) + beta · C` as a triple loop accumulating in Double (same layout as
        /// `Gemm.sgemm`; with `beta == 0`, C is only written).
        public static func sgemm(
            _ transA: Transpose, _ transB: Transpose,
            m: Int, n: Int, k: Int,
            alpha: Float = 1,
            a: UnsafePointer<Float>, lda: Int,
            b: UnsafePointer<Float>, ldb: Int,
            beta: Float = 0,
            c: UnsafeMutablePointer<Float>, ldc: Int
        ) {
            checkShapes(transA, transB, m: m, n: n, k: k, lda: lda, ldb: ldb, ldc: ldc)
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0
                    for p in 0..<k {
                        let aValue = transA == .normal ? a[i * lda + p] : a[p * lda + i]
                        let bValue = transB == .normal ? b[p * ldb + j] : b[j * ldb + p]
                        sum += Double(aValue) * Double(bValue)
                    }
                    let previous = beta == 0 ? 0 : Double(beta) * Double(c[i * ldc + j])
                    c[i * ldc + j] = Float(Double(alpha) * sum + previous)
                }
            }
        }
    }
}
