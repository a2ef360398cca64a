/// A tensor as `_rebuild_tensor_v2` describes it: `shape` and `strides` (in elements) over a storage, starting
/// at element `offset`. Views of one storage may overlap (tied weights) and need not be contiguous.
struct TorchTensorView: Hashable {
    /// The storage's key (`data/<key>` in a zip checkpoint).
    var storage: String
    var dtype: DType
    var offset: Int
    var shape: [Int]
    var strides: [Int]

    /// More dimensions than any real tensor has (torch's own limit is 64 as well).
    static let maximumRank = 64

    var elementSize: Int { dtype.bitWidth / 8 }

    /// Checks every number before arithmetic uses it — no negative offset, size or stride, no overflow, every
    /// element inside the storage — and returns the byte count of the contiguous copy.
    func checkedByteCount(name: String, storageElements: Int) throws(TorchCheckpointError) -> Int {
        func refuse(_ problem: String) -> TorchCheckpointError {
            TorchCheckpointError(.invalidTensor, "tensor '\(printable(name))': \(problem)")
        }
        guard shape.count <= Self.maximumRank else { throw refuse("\(shape.count) dimensions (at most \(Self.maximumRank))") }
        guard shape.count == strides.count else {
            throw refuse("\(shape.count) sizes but \(strides.count) strides")
        }
        guard offset >= 0, shape.allSatisfy({ $0 >= 0 }), strides.allSatisfy({ $0 >= 0 }) else {
            throw refuse("negative offset, size or stride (offset \(offset), shape \(shape), strides \(strides))")
        }
        guard let count = shape.checkedProduct(), let bytes = dtype.byteCount(elements: count) else {
            throw refuse("shape \(shape) overflows")
        }
        if count == 0 {
            guard offset <= storageElements else {
                throw refuse("offset \(offset) is past the end of storage '\(storage)' (\(storageElements) elements)")
            }
            return 0
        }
        // The last element reached: offset + Σ (size − 1) × stride.
        var last = offset
        for (size, stride) in zip(shape, strides) {
            let (step, overflow) = (size - 1).multipliedReportingOverflow(by: stride)
            let (sum, overflowSum) = last.addingReportingOverflow(step)
            guard !overflow, !overflowSum else { throw refuse("shape \(shape) with strides \(strides) overflows") }
            last = sum
        }
        guard last < storageElements else {
            throw refuse(
                "shape \(shape), strides \(strides) and offset \(offset) reach element \(last) of storage '\(storage)', "
                    + "which has \(storageElements)")
        }
        return bytes
    }
}

// MARK: - Copying a view to contiguous bytes

/// Copies the elements of a checked view into `destination` in row-major (contiguous) order.
enum StridedCopy {
    /// The reference: one element at a time, its source offset computed from its index.
    static func reference(
        _ view: TorchTensorView, from storage: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer
    ) {
        let size = view.elementSize
        let count = view.shape.reduce(1, *)
        for element in 0..<count {
            var rest = element, source = view.offset
            for dimension in view.shape.indices.reversed() {
                source += (rest % view.shape[dimension]) * view.strides[dimension]
                rest /= view.shape[dimension]
            }
            destination.baseAddress!.advanced(by: element * size)
                .copyMemory(from: storage.baseAddress!.advanced(by: source * size), byteCount: size)
        }
    }

    /// The same copy by runs: dimensions of size 1 are dropped, dimensions that continue each other are merged,
    /// and when the innermost one is contiguous whole rows are copied at once (one copy for a contiguous tensor).
    static func copy(
        _ view: TorchTensorView, from storage: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer
    ) {
        let size = view.elementSize
        guard !view.shape.contains(0) else { return }
        var dimensions: [(size: Int, stride: Int)] = []
        for (length, stride) in zip(view.shape, view.strides) where length != 1 {
            if let outer = dimensions.last, outer.stride == stride * length {
                dimensions[dimensions.count - 1] = (outer.size * length, stride)
            } else {
                dimensions.append((length, stride))
            }
        }
        var rowLength = 1
        if let inner = dimensions.last, inner.stride == 1 {
            rowLength = inner.size
            dimensions.removeLast()
        }
        let rowBytes = rowLength * size
        let rows = dimensions.reduce(1) { $0 * $1.size }
        var index = [Int](repeating: 0, count: dimensions.count)
        var source = view.offset
        for row in 0..<rows {
            destination.baseAddress!.advanced(by: row * rowBytes)
                .copyMemory(from: storage.baseAddress!.advanced(by: source * size), byteCount: rowBytes)
            // Next row: an odometer over the outer dimensions.
            var dimension = dimensions.count - 1
            while dimension >= 0 {
                index[dimension] += 1
                source += dimensions[dimension].stride
                if index[dimension] < dimensions[dimension].size { break }
                source -= dimensions[dimension].stride * dimensions[dimension].size
                index[dimension] = 0
                dimension -= 1
            }
        }
    }
}
