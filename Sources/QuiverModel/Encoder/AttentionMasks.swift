import QuiverTensor

/// What the attention needs to know about padding, per batch item, computed once per forward pass from the
/// attention mask.
final class AttentionMasks: @unchecked Sendable {
    /// additive is (batch, sequenceLength): 0 for tokens, `Softmax.maskedScore` for padding.
    let additive: FloatBuffer
    /// keyCounts is (batch): keys up to the item's last token. The keys after it are padding, whose softmax weight
    /// is exactly 0, so they are skipped. An item with no token at all keeps every key (uniform weights, as in
    /// transformers).
    let keyCounts: UnsafeMutablePointer<Int>
    /// keysUnmasked is (batch): true when none of the first `keyCounts` keys is padding (right padding), so the
    /// softmax needs no mask.
    let keysUnmasked: UnsafeMutablePointer<Bool>

    init(attentionMask: [Int32], batch: Int, sequenceLength t: Int) {
        additive = FloatBuffer(count: batch * t)
        keyCounts = .allocate(capacity: max(batch, 1))
        keysUnmasked = .allocate(capacity: max(batch, 1))
        attentionMask.withUnsafeBufferPointer { mask in
            Softmax.additiveMask(from: mask.baseAddress!, into: additive.pointer, count: batch * t)
        }
        for item in 0..<batch {
            let row = attentionMask[(item * t)..<((item + 1) * t)]
            let keyCount = (row.lastIndex { $0 != 0 }).map { $0 - item * t + 1 } ?? t
            keyCounts[item] = keyCount
            keysUnmasked[item] = row.prefix(keyCount).allSatisfy { $0 != 0 }
        }
    }

    deinit {
        keyCounts.deallocate()
        keysUnmasked.deallocate()
    }
}
