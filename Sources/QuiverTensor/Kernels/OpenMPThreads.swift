#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The OpenMP thread count that Debian's oneDNN (built with `DNNL_CPU_RUNTIME=OMP`, linked to libgomp) uses inside
/// one call.
///
/// OpenMP keeps this count per calling thread, and a thread that never set it uses `OMP_NUM_THREADS` or, unset, the
/// number of cores. So `Gemm` sets it on the calling thread before every oneDNN call (a few nanoseconds). The
/// functions are looked up at run time because the OpenMP header is not part of the CDNNL module; libgomp is
/// always loaded, as a dependency of libdnnl.
enum OpenMPThreads {
    private typealias SetNumThreads = @convention(c) (Int32) -> Void
    private typealias GetMaxThreads = @convention(c) () -> Int32

    private struct Functions: @unchecked Sendable {
        let set: SetNumThreads?
        let get: GetMaxThreads?
    }

    private static let functions: Functions = {
        let handle = dlopen(nil, RTLD_NOW)
        let set = dlsym(handle, "omp_set_num_threads").map { unsafeBitCast($0, to: SetNumThreads.self) }
        let get = dlsym(handle, "omp_get_max_threads").map { unsafeBitCast($0, to: GetMaxThreads.self) }
        return Functions(set: set, get: get)
    }()

    /// Sets the OpenMP thread count of the calling thread; false when OpenMP is not loaded.
    @discardableResult
    static func setForCurrentThread(_ threads: Int) -> Bool {
        guard let set = functions.set else { return false }
        set(Int32(clamping: threads))
        return true
    }

    /// The OpenMP thread count of the calling thread, or nil when OpenMP is not loaded.
    static func currentThreadCount() -> Int? {
        functions.get.map { Int($0()) }
    }
}
