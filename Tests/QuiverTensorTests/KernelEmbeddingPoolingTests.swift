import Testing

@testable import QuiverTensor

@Suite("Embedding and pooling")
struct KernelEmbeddingPoolingTests {
    static let table: [Float] = (0..<(5 * 3)).map { Float($0) }  // (5, 3)

    @Test("gather copies the rows of the ids, Int32 or Int")
    func gather() throws {
        let ids32: [Int32] = [4, 0, 4, 2]
        let fromInt32 = try filled(12) { out in
            try Embedding.gather(table: Self.table, tableRows: 5, dim: 3, ids: ids32, count: 4, into: out)
        }
        #expect(fromInt32 == [12, 13, 14, 0, 1, 2, 12, 13, 14, 6, 7, 8])
        let ids: [Int] = [1]
        let fromInt = try filled(3) { out in
            try Embedding.gather(table: Self.table, tableRows: 5, dim: 3, ids: ids, count: 1, into: out)
        }
        #expect(fromInt == [3, 4, 5])
    }

    @Test("an id outside the table is an error naming its position, and nothing is written")
    func outOfRange() {
        for (ids, bad) in [([0, 5, 1], 5), ([2, 0, -1], -1)] as [([Int32], Int)] {
            var output = [Float](repeating: -7, count: 9)
            #expect(
                throws: KernelError.indexOutOfRange(position: ids.firstIndex(of: Int32(bad))!, index: bad, limit: 5)
            ) {
                try Embedding.gather(table: Self.table, tableRows: 5, dim: 3, ids: ids, count: 3, into: &output)
            }
            #expect(output.allSatisfy { $0 == -7 })
        }
    }

    @Test("gather backward adds gradients into the rows, repeated ids twice")
    func gatherBackward() {
        let ids: [Int32] = [1, 3, 1]
        let gradient: [Float] = [1, 1, 1, 2, 2, 2, 10, 10, 10]
        var tableGradient = [Float](repeating: 0, count: 15)
        Embedding.gatherBackward(ids: ids, count: 3, dim: 3, outputGradient: gradient, tableGradient: &tableGradient)
        #expect(tableGradient == [0, 0, 0, 11, 11, 11, 0, 0, 0, 2, 2, 2, 0, 0, 0])
    }

    @Test("mean pooling skips padding and matches the reference; an all-padding item gives zeros")
    func meanPooling() {
        let (batch, tokens, dim) = (3, 6, 13)
        let hidden = randomFloats(batch * tokens * dim, seed: 71)
        let mask: [Float] = [1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        let actual = filled(batch * dim) { out in
            Pooling.mean(hidden, mask: mask, batch: batch, sequenceLength: tokens, dim: dim, into: out)
        }
        let expected = filled(batch * dim) { out in
            Pooling.Reference.mean(hidden, mask: mask, batch: batch, sequenceLength: tokens, dim: dim, into: out)
        }
        expectClose(actual, expected, absolute: 1e-6, "mean pooling")
        expectClose(Array(actual[dim..<(2 * dim)]), Array(hidden[(6 * dim)..<(7 * dim)]), absolute: 0, "one token")
        #expect(actual[(2 * dim)...].allSatisfy { $0 == 0 })
        let first = filled(batch * dim) {
            Pooling.first(hidden, batch: batch, sequenceLength: tokens, dim: dim, into: $0)
        }
        expectClose(Array(first[dim..<(2 * dim)]), Array(hidden[(6 * dim)..<(7 * dim)]), absolute: 0, "first token")
    }

    @Test("argmax: first of ties, NaNs skipped")
    func argmax() {
        #expect(Pooling.argmax([1, 3, 3, 2], count: 4) == 1)
        #expect(Pooling.argmax([.nan, -5, -1], count: 3) == 2)
        #expect(Pooling.argmax([-.infinity, -.infinity], count: 2) == 0)
        var rows = [Int](repeating: -1, count: 2)
        Pooling.argmaxRows([0, 9, 1, 7, 2, 3], rows: 2, cols: 3, into: &rows)
        #expect(rows == [1, 0])
    }
}
