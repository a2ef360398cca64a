// MARK: - TokenTrie

/// A prefix tree over the Unicode scalars of a set of tokens, stored flat for fast, allocation-free lookups.
///
/// Nodes are numbered breadth-first, so the children of node `n` are the consecutive nodes
/// `firstChild[n] ..< firstChild[n + 1]`, sorted by `edgeScalar`. `tokenIDs[n]` is the id of the token that
/// ends at `n`, or -1. Node 0 is the root (the empty prefix).
///
/// Tokens are compared scalar by scalar (never by `String` equality, which is canonical equivalence).
struct TokenTrie: Sendable {
    private let firstChild: [Int32]
    private let edgeScalar: [UInt32]
    private let tokenIDs: [Int32]

    static let root: Int32 = 0

    /// A duplicate met while building: the same scalars given for two ids.
    struct Duplicate: Error {
        let firstID: Int32
        let duplicateID: Int32
    }

    /// Builds the trie of `tokens`, where `tokens[k].id` is the id stored for `tokens[k].scalars`.
    /// - Throws: `Duplicate` when two entries have identical scalars.
    init(tokens: [(scalars: [UInt32], id: Int32)]) throws(Duplicate) {
        // Sorting makes every node's tokens a contiguous range, and its children contiguous sub-ranges.
        let sorted = tokens.sorted { lhs, rhs in
            if lhs.scalars == rhs.scalars { return lhs.id < rhs.id }
            return lhs.scalars.lexicographicallyPrecedes(rhs.scalars)
        }
        var firstChild: [Int32] = []
        var edgeScalar: [UInt32] = [0]
        var tokenID: [Int32] = [-1]
        // Breadth-first queue of nodes to expand: the sorted range of tokens below the node, and its depth.
        var pending: [(range: Range<Int>, depth: Int)] = [(0..<sorted.count, 0)]
        var next = 0
        while next < pending.count {
            let (range, depth) = pending[next]
            let node = next
            next += 1
            firstChild.append(Int32(edgeScalar.count))
            var index = range.lowerBound
            // Tokens that end exactly here sort first in the range.
            while index < range.upperBound, sorted[index].scalars.count == depth {
                if tokenID[node] >= 0 {
                    throw Duplicate(firstID: tokenID[node], duplicateID: sorted[index].id)
                }
                tokenID[node] = sorted[index].id
                index += 1
            }
            while index < range.upperBound {
                let scalar = sorted[index].scalars[depth]
                let groupStart = index
                while index < range.upperBound, sorted[index].scalars[depth] == scalar { index += 1 }
                edgeScalar.append(scalar)
                tokenID.append(-1)
                pending.append((groupStart..<index, depth + 1))
            }
        }
        firstChild.append(Int32(edgeScalar.count))
        self.firstChild = firstChild
        self.edgeScalar = edgeScalar
        self.tokenIDs = tokenID
    }

    /// The child of `node` along `scalar`, or nil.
    @inline(__always)
    func child(of node: Int32, _ scalar: UInt32) -> Int32? {
        var low = Int(firstChild[Int(node)])
        var high = Int(firstChild[Int(node) + 1])
        // Binary search for wide nodes (the root has thousands of children), then a short linear scan.
        // Invariant: if `scalar` is an edge of `node`, it is in `low ..< high`.
        while high - low > 8 {
            let middle = (low + high) >> 1
            if edgeScalar[middle] < scalar { low = middle + 1 } else { high = middle + 1 }
        }
        while low < high {
            let edge = edgeScalar[low]
            if edge == scalar { return Int32(low) }
            if edge > scalar { return nil }
            low += 1
        }
        return nil
    }

    /// The node reached from `node` by following every scalar of `scalars`, or nil.
    func walk<S: Sequence>(from node: Int32 = TokenTrie.root, _ scalars: S) -> Int32? where S.Element == UInt32 {
        var current = node
        for scalar in scalars {
            guard let next = child(of: current, scalar) else { return nil }
            current = next
        }
        return current
    }

    /// The id of the token spelled exactly by `scalars`, or nil.
    func id<S: Sequence>(of scalars: S) -> Int32? where S.Element == UInt32 {
        guard let node = walk(scalars) else { return nil }
        let id = tokenIDs[Int(node)]
        return id >= 0 ? id : nil
    }

    /// The id stored at `node`, or -1.
    @inline(__always)
    func tokenID(at node: Int32) -> Int32 { tokenIDs[Int(node)] }
}
