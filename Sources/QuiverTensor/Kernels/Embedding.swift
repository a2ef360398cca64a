/// Looking rows of an embedding table up by id, and the gradient of that lookup.
public enum Embedding {
    /// `output[i, :] = table[ids[i], :]` for `count` ids (Int32 from a tokenizer, or Int).
    ///
    /// Throws `KernelError.indexOutOfRange` for an id outside `0 ..< tableRows`, before writing anything.
    @inlinable
    public static func gather<Index: BinaryInteger>(
        table: UnsafePointer<Float>, tableRows: Int,  // table is (tableRows, dim)
        dim: Int,
        ids: UnsafePointer<Index>, count: Int,  // ids is (count)
        into output: UnsafeMutablePointer<Float>  // output is (count, dim)
    ) throws(KernelError) {
        for position in 0..<count where ids[position] < 0 || ids[position] >= tableRows {
            throw .indexOutOfRange(position: position, index: Int(truncatingIfNeeded: ids[position]), limit: tableRows)
        }
        for position in 0..<count {
            (output + position * dim).update(from: table + Int(ids[position]) * dim, count: dim)
        }
    }

    /// `tableGradient[ids[i], :] += outputGradient[i, :]` (ids must be valid: the forward pass checked them).
    @inlinable
    public static func gatherBackward<Index: BinaryInteger>(
        ids: UnsafePointer<Index>, count: Int, dim: Int,
        outputGradient: UnsafePointer<Float>,  // outputGradient is (count, dim)
        tableGradient: UnsafeMutablePointer<Float>  // tableGradient is (tableRows, dim)
    ) {
        for position in 0..<count {
            Elementwise.accumulate(
                outputGradient + position * dim, into: tableGradient + Int(ids[position]) * dim,
                count: dim)
        }
    }
}

/// A bad argument found by a kernel that checks its input (ids, indices) rather than trusting it.
public enum KernelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `index`, at `position` of the ids, is not in `0 ..< limit`.
    case indexOutOfRange(position: Int, index: Int, limit: Int)

    public var description: String {
        switch self {
        case .indexOutOfRange(let position, let index, let limit):
            "id \(index) at position \(position) is outside the table's \(limit) rows"
        }
    }
}
