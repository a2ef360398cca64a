/// A fixed number of floats at a stable, 64-byte aligned address: weights converted at load time and the encoder's
/// workspaces. The memory is freed with the buffer.
///
/// Kernels take raw pointers; a `FloatBuffer` is how the encoder owns what those pointers point at without
/// `withUnsafe…` scopes around every layer.
public final class FloatBuffer: @unchecked Sendable {
    /// The first float.
    public let pointer: UnsafeMutablePointer<Float>
    /// The number of floats.
    public let count: Int

    /// `count` floats, zeroed.
    public init(count: Int) {
        precondition(count >= 0, "FloatBuffer: negative count \(count)")
        let raw = UnsafeMutableRawPointer.allocate(
            byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
        self.count = count
    }

    /// A copy of `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// The floats as a read-only pointer.
    public var readPointer: UnsafePointer<Float> { UnsafePointer(pointer) }

    /// A copy of the floats.
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
