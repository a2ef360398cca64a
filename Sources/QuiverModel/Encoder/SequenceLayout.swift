/// Where each batch item's rows are in the encoder's buffers: the items one after the other, each as many rows as it
/// has positions — all the same length when the batch is padded, each its own length when it is packed.
///
/// A padded batch of 3 items of length 4 has rows `0..<4`, `4..<8`, `8..<12`; the same texts packed (lengths 4, 2,
/// 3) have rows `0..<4`, `4..<6`, `6..<9`: the products run over 9 rows instead of 12, the attention over each item's
/// own rows.
public struct SequenceLayout: Sendable, Equatable {
    /// starts is (batch + 1): item `i`'s rows are `starts[i]..<starts[i + 1]`.
    public let starts: [Int]
    /// The longest item's length (0 for an empty batch).
    public let longest: Int

    /// `batch` items of `length` rows each: a padded batch.
    public init(batch: Int, length: Int) {
        precondition(batch >= 0 && length >= 0, "SequenceLayout: batch \(batch), length \(length)")
        starts = (0...batch).map { $0 * length }
        longest = batch > 0 ? length : 0
    }

    /// Items of `lengths` rows, one after the other: a packed batch.
    public init(lengths: [Int]) {
        precondition(lengths.allSatisfy { $0 >= 0 }, "SequenceLayout: a negative length")
        var starts = [0]
        starts.reserveCapacity(lengths.count + 1)
        for length in lengths { starts.append(starts.last! + length) }
        self.starts = starts
        longest = lengths.max() ?? 0
    }

    public var batch: Int { starts.count - 1 }
    /// Rows of all items together.
    public var rows: Int { starts[starts.count - 1] }

    /// The rows of item `item`.
    public func rows(of item: Int) -> Range<Int> { starts[item]..<starts[item + 1] }

    /// The number of rows (positions) of item `item`.
    public func length(of item: Int) -> Int { starts[item + 1] - starts[item] }

    /// The length of every item, in order.
    public var lengths: [Int] { (0..<batch).map(length(of:)) }
}
