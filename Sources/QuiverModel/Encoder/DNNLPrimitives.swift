import CDNNL

#if canImport(Glibc)
    import Glibc
#endif

// oneDNN primitives for the element-wise steps of a layer: GELU and the attention softmax.
//
// Swift code in this package is compiled for the baseline x86-64 target (SSE2, no FMA), where the vectorised erf of
// `Activation.gelu` costs ~4.7 ns per element. oneDNN generates its kernels at run time for the machine's vector
// unit (AVX2 + FMA here, AVX-512 where present), the way it does for sgemm, and its exact-erf GELU and softmax run
// several times faster (docs/encoder.md). The Swift kernels remain the reference and the fallback: a primitive that
// oneDNN cannot create is simply not used.

/// An engine and a stream: one per thread that executes primitives (a stream is not thread-safe).
final class DNNLStream: @unchecked Sendable {
    let engine: dnnl_engine_t
    let stream: dnnl_stream_t

    init?() {
        var engine: dnnl_engine_t?
        guard dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success, let engine else { return nil }
        var stream: dnnl_stream_t?
        guard dnnl_stream_create(&stream, engine, UInt32(dnnl_stream_default_flags.rawValue)) == dnnl_success,
            let stream
        else {
            dnnl_engine_destroy(engine)
            return nil
        }
        self.engine = engine
        self.stream = stream
    }

    deinit {
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }
}

/// A primitive that reads and writes one contiguous F32 buffer in place (`DNNL_ARG_SRC` = `DNNL_ARG_DST`): an
/// element-wise function over `count` floats, or a softmax over the rows of a (rows, cols) matrix.
final class InPlacePrimitive: @unchecked Sendable {
    enum Kind: Hashable {
        case geluErf(count: Int)
        case softmax(rows: Int, cols: Int)
    }

    private let stream: DNNLStream
    private let primitive: dnnl_primitive_t
    private let memory: dnnl_memory_t
    private let scratchpad: dnnl_memory_t?
    private let scratchpadBytes: UnsafeMutableRawPointer?

    init?(_ kind: Kind, stream: DNNLStream) {
        self.stream = stream
        var descriptor = dnnl_memory_desc_t()
        var dims = dnnl_dims_t(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let rank: Int32
        switch kind {
        case .geluErf(let count):
            dims.0 = Int64(count)
            rank = 1
        case .softmax(let rows, let cols):
            (dims.0, dims.1) = (Int64(rows), Int64(cols))
            rank = 2
        }
        let tag = rank == 1 ? dnnl_a : dnnl_ab
        let initialized = withUnsafeBytes(of: &dims) { dims in
            dnnl_memory_desc_init_by_tag(
                &descriptor, rank, dims.baseAddress!.assumingMemoryBound(to: dnnl_dim_t.self), dnnl_f32, tag)
        }
        guard initialized == dnnl_success else { return nil }

        var attributes: dnnl_primitive_attr_t?
        guard dnnl_primitive_attr_create(&attributes) == dnnl_success, let attributes else { return nil }
        defer { dnnl_primitive_attr_destroy(attributes) }
        dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user)

        var primitiveDescriptor: dnnl_primitive_desc_t?
        // oneDNN fixes a primitive's thread count when it creates it: one, like every kernel here.
        DNNLThreads.useOneThread()
        let created: dnnl_status_t
        switch kind {
        case .geluErf:
            var eltwise = dnnl_eltwise_desc_t()
            guard
                dnnl_eltwise_forward_desc_init(
                    &eltwise, dnnl_forward_inference, dnnl_eltwise_gelu_erf, &descriptor, 0, 0) == dnnl_success
            else { return nil }
            created = dnnl_primitive_desc_create(&primitiveDescriptor, &eltwise, attributes, stream.engine, nil)
        case .softmax:
            var softmax = dnnl_softmax_desc_t()
            guard dnnl_softmax_forward_desc_init(&softmax, dnnl_forward_inference, &descriptor, 1) == dnnl_success
            else { return nil }
            created = dnnl_primitive_desc_create(&primitiveDescriptor, &softmax, attributes, stream.engine, nil)
        }
        guard created == dnnl_success, let primitiveDescriptor else { return nil }
        defer { dnnl_primitive_desc_destroy(primitiveDescriptor) }

        var primitive: dnnl_primitive_t?
        guard dnnl_primitive_create(&primitive, primitiveDescriptor) == dnnl_success, let primitive else { return nil }
        var memory: dnnl_memory_t?
        guard dnnl_memory_create(&memory, &descriptor, stream.engine, nil) == dnnl_success, let memory else {
            dnnl_primitive_destroy(primitive)
            return nil
        }
        self.primitive = primitive
        self.memory = memory

        // Scratch memory of this primitive alone, so primitives of different threads never share any.
        var scratchpad: dnnl_memory_t?
        var scratchpadBytes: UnsafeMutableRawPointer?
        if let scratchpadDescriptor = dnnl_primitive_desc_query_md(primitiveDescriptor, dnnl_query_scratchpad_md, 0) {
            let size = dnnl_memory_desc_get_size(scratchpadDescriptor)
            if size > 0 {
                scratchpadBytes = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
                dnnl_memory_create(&scratchpad, scratchpadDescriptor, stream.engine, scratchpadBytes)
            }
        }
        self.scratchpad = scratchpad
        self.scratchpadBytes = scratchpadBytes
    }

    deinit {
        if let scratchpad { dnnl_memory_destroy(scratchpad) }
        scratchpadBytes?.deallocate()
        dnnl_memory_destroy(memory)
        dnnl_primitive_destroy(primitive)
    }

    /// Runs the primitive on `data` (of the size it was created for), single-threaded on the calling thread.
    func run(_ data: UnsafeMutablePointer<Float>) {
        DNNLThreads.useOneThread()
        dnnl_memory_set_data_handle(memory, data)
        var arguments = [
            dnnl_exec_arg_t(arg: DNNL_ARG_SRC, memory: memory), dnnl_exec_arg_t(arg: DNNL_ARG_DST, memory: memory),
        ]
        if let scratchpad { arguments.append(dnnl_exec_arg_t(arg: DNNL_ARG_SCRATCHPAD, memory: scratchpad)) }
        let status = dnnl_primitive_execute(primitive, stream.stream, Int32(arguments.count), &arguments)
        precondition(status == dnnl_success, "oneDNN primitive failed with status \(status.rawValue)")
        dnnl_stream_wait(stream.stream)
    }
}

/// The primitives one thread uses, created on first use for each shape.
final class DNNLKernels: @unchecked Sendable {
    private let stream: DNNLStream?
    private var primitives: [InPlacePrimitive.Kind: InPlacePrimitive?] = [:]

    init() { stream = DNNLStream() }

    /// The number of shapes cached.
    var cachedCount: Int { primitives.count }

    /// The most shapes kept: batches of ever new lengths must not grow the cache without end (oneDNN keeps its
    /// own cache of generated kernels, so creating a primitive again is cheap).
    static let capacity = 64

    /// The primitive for `kind`, or nil when oneDNN cannot create it (the caller uses the Swift kernel).
    func primitive(_ kind: InPlacePrimitive.Kind) -> InPlacePrimitive? {
        if let cached = primitives[kind] { return cached }
        if primitives.count >= Self.capacity { primitives.removeAll() }
        let created = stream.flatMap { InPlacePrimitive(kind, stream: $0) }
        primitives[kind] = created
        return created
    }
}

/// The OpenMP thread count of the calling thread (oneDNN is built on OpenMP): one, as for `Gemm.sgemm` — the
/// encoder splits its work across threads itself.
enum DNNLThreads {
    private typealias SetNumThreads = @convention(c) (Int32) -> Void

    private struct Function: @unchecked Sendable { let set: SetNumThreads? }

    private static let function = Function(
        set: dlsym(dlopen(nil, RTLD_NOW), "omp_set_num_threads").map { unsafeBitCast($0, to: SetNumThreads.self) })

    static func useOneThread() { function.set?(1) }
}
