import QuiverTensor

/// What the attention needs to know about padding, per batch item, computed once per forward pass from the
/// attention mask.
final class AttentionMasks: @unchecked Sendable {
    /// additive is (rows): 0 for tokens, `Softmax.maskedScore` for padding.
    let additive: FloatBuffer
    /// keyCounts is (batch): the item's keys up to its last token. The keys after it are padding, whose softmax weight
    /// is exactly 0, so they are skipped. An item with no token at all keeps every key (uniform weights, as in
    /// transformers).
    let keyCounts: UnsafeMutablePointer<Int>
    /// keysUnmasked is (batch): true when none of the first `keyCounts` keys is padding (right padding, or a packed
    /// item), so the softmax needs no mask.
    let keysUnmasked: UnsafeMutablePointer<Bool>

    init(attentionMask: [Int32], layout: SequenceLayout) {
        let batch = layout.batch
        additive = FloatBuffer(count: layout.rows)
        keyCounts = .allocate(capacity: max(batch, 1))
        keysUnmasked = .allocate(capacity: max(batch, 1))
        attentionMask.withUnsafeBufferPointer { mask in
            guard let mask = mask.baseAddress else { return }
            Softmax.additiveMask(from: mask, into: additive.pointer, count: layout.rows)
        }
        for item in 0..<batch {
            let row = attentionMask[layout.rows(of: item)]
            let keyCount = (row.lastIndex { $0 != 0 }).map { $0 - row.startIndex + 1 } ?? row.count
            keyCounts[item] = keyCount
            keysUnmasked[item] = row.prefix(keyCount).allSatisfy { $0 != 0 }
        }
    }

    deinit {
        keyCounts.deallocate()
        keysUnmasked.deallocate()
    }
}
