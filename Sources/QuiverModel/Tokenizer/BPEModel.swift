
// MARK: - BPEModel

/// A byte-pair-encoding model as Hugging Face `tokenizers` runs it (`models.BPE`): a word starts as one symbol
/// per character and the adjacent pair of lowest merge rank is merged until no pair has a merge.
///
/// Words are sequences of Unicode scalar values — for byte-level BPE (RoBERTa, GPT-2) already mapped through
/// `ByteLevelAlphabet`. The merge loop uses a priority queue, so a word of n symbols costs O(n log n); results
/// of short words are cached.
struct BPEModel: Sendable {
    let vocabulary: Vocabulary
    /// `left << 32 | right` → `rank << 32 | mergedID`.
    let merges: [UInt64: UInt64]
    let unknownID: Int32?
    let fuseUnknown: Bool
    let byteFallback: Bool
    let ignoreMerges: Bool
    /// Scalars glued before every symbol but a word's first, and after its last one (usually empty).
    let continuingSubwordPrefix: [UInt32]
    let endOfWordSuffix: [UInt32]
    /// The ids of `<0x00>` … `<0xFF>`, -1 where missing (for `byteFallback`).
    let byteTokenIDs: [Int32]
    private let cache = WordCache()

    /// The model of `vocabulary` with `merges` in rank order, each merging two vocabulary tokens into a third.
    ///
    /// - Throws: `TokenizerError` (via `invalid`) when a merge names a token missing from the vocabulary or
    ///   builds one that is not in it, or the unknown token is missing.
    init(
        vocabulary: Vocabulary, merges: [(String, String)], unknownToken: String?, fuseUnknown: Bool,
        byteFallback: Bool, ignoreMerges: Bool, continuingSubwordPrefix: String?, endOfWordSuffix: String?,
        invalid: (_ field: String, _ reason: String) -> TokenizerError
    ) throws(TokenizerError) {
        let prefixByteCount = continuingSubwordPrefix?.utf8.count ?? 0
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(merges.count)
        for (rank, (left, right)) in merges.enumerated() {
            guard let leftID = vocabulary.id(for: left) else {
                throw invalid("merges", "merge \(rank) names \(quoted(left)), which is not in the vocabulary")
            }
            guard let rightID = vocabulary.id(for: right) else {
                throw invalid("merges", "merge \(rank) names \(quoted(right)), which is not in the vocabulary")
            }
            // As tokenizers does, the right token loses the continuing-subword prefix's length in bytes.
            let rightBytes = Array(right.utf8)
            guard rightBytes.count >= prefixByteCount,
                let rest = String(validating: rightBytes[prefixByteCount...], as: UTF8.self),
                let mergedID = vocabulary.id(for: left + rest)
            else {
                throw invalid(
                    "merges",
                    "merge \(rank) (\(quoted(left)) \(quoted(right))) makes a token that is not in the vocabulary")
            }
            guard rank < Int(UInt32.max) else { throw invalid("merges", "more than \(UInt32.max) merges") }
            // A pair listed twice keeps its last rank, as in tokenizers.
            table[UInt64(UInt32(leftID)) << 32 | UInt64(UInt32(rightID))] =
                UInt64(rank) << 32 | UInt64(UInt32(mergedID))
        }
        if let unknownToken {
            guard let id = vocabulary.id(for: unknownToken) else {
                throw .missingSpecialToken(source: vocabulary.source, role: "unknown", token: unknownToken)
            }
            unknownID = id
        } else {
            unknownID = nil
        }
        self.vocabulary = vocabulary
        self.merges = table
        self.fuseUnknown = fuseUnknown
        self.byteFallback = byteFallback
        self.ignoreMerges = ignoreMerges
        self.continuingSubwordPrefix = continuingSubwordPrefix.map { $0.unicodeScalars.map(\.value) } ?? []
        self.endOfWordSuffix = endOfWordSuffix.map { $0.unicodeScalars.map(\.value) } ?? []
        self.byteTokenIDs = byteTokenIDTable(vocabulary)
    }

    // MARK: Tokenizing a word

    /// Appends the ids of `word` to `ids`.
    func appendIDs(of word: UnsafeBufferPointer<UInt32>, to ids: inout [Int32]) {
        guard !word.isEmpty else { return }
        if ignoreMerges, let id = vocabulary.trie.id(of: word) {
            ids.append(id)
            return
        }
        let cacheable = word.count < WordCache.maximumWordLength
        if cacheable, let cached = cache.ids(of: word) {
            ids.append(contentsOf: cached)
            return
        }
        let start = ids.count
        var symbols = initialSymbols(of: word)
        mergeAll(&symbols)
        for symbol in symbols where symbol.alive { ids.append(symbol.id) }
        if cacheable { cache.store(Array(ids[start...]), for: word) }
    }

    /// One symbol in the linked list of a word being merged.
    struct Symbol {
        var id: Int32
        var previous: Int32
        var next: Int32
        var alive = true
    }

    /// One symbol per scalar (with the prefix/suffix glued on where configured), unknown scalars as the unknown
    /// token (consecutive ones fused when `fuseUnknown`), or their bytes' `<0xAB>` tokens with `byteFallback`;
    /// unknown scalars are dropped when there is no unknown token, as in tokenizers.
    private func initialSymbols(of word: UnsafeBufferPointer<UInt32>) -> [Symbol] {
        var ids: [Int32] = []
        ids.reserveCapacity(word.count)
        var pendingUnknown = false
        let trie = vocabulary.trie
        let prefixNode = continuingSubwordPrefix.isEmpty ? TokenTrie.root : trie.walk(continuingSubwordPrefix)
        for index in word.indices {
            let isFirst = index == 0
            let isLast = index == word.count - 1
            var id: Int32 = -1
            if let start = isFirst ? TokenTrie.root : prefixNode, var node = trie.child(of: start, word[index]) {
                if isLast, !endOfWordSuffix.isEmpty { node = trie.walk(from: node, endOfWordSuffix) ?? -1 }
                if node >= 0 { id = trie.tokenID(at: node) }
            }
            if id >= 0 {
                if pendingUnknown, let unknownID { ids.append(unknownID) }
                pendingUnknown = false
                ids.append(id)
                continue
            }
            if byteFallback {
                var text = isFirst ? [] : continuingSubwordPrefix
                text.append(word[index])
                if isLast { text.append(contentsOf: endOfWordSuffix) }
                let bytes = text.flatMap { Array(String(Unicode.Scalar($0) ?? "\u{FFFD}").utf8) }
                let byteIDs = bytes.map { byteTokenIDs[Int($0)] }
                if byteIDs.allSatisfy({ $0 >= 0 }) {
                    // tokenizers adds the byte tokens without closing a pending unknown first.
                    ids.append(contentsOf: byteIDs)
                    continue
                }
            }
            guard let unknownID else { continue }
            if pendingUnknown, !fuseUnknown { ids.append(unknownID) }
            pendingUnknown = true
        }
        if pendingUnknown, let unknownID { ids.append(unknownID) }
        return ids.enumerated().map { index, id in
            Symbol(id: id, previous: Int32(index) - 1, next: index + 1 < ids.count ? Int32(index + 1) : -1)
        }
    }

    /// Merges pairs by rank (then leftmost first), as tokenizers' `Word::merge_all` does.
    private func mergeAll(_ symbols: inout [Symbol]) {
        guard symbols.count > 1 else { return }
        var queue = MergeQueue()
        for index in 0..<symbols.count - 1 {
            if let merge = merges[pairKey(symbols[index].id, symbols[index + 1].id)] {
                queue.push(
                    rank: UInt32(merge >> 32), position: Int32(index), mergedID: Int32(truncatingIfNeeded: merge))
            }
        }
        while let top = queue.pop() {
            let position = Int(top.position)
            guard symbols[position].alive, symbols[position].next >= 0 else { continue }
            let nextPosition = Int(symbols[position].next)
            let right = symbols[nextPosition]
            // A stale entry: the pair at this position changed since it was queued.
            guard let merge = merges[pairKey(symbols[position].id, right.id)],
                Int32(truncatingIfNeeded: merge) == top.mergedID
            else { continue }
            symbols[position].id = top.mergedID
            symbols[position].next = right.next
            symbols[nextPosition].alive = false
            if right.next >= 0 { symbols[Int(right.next)].previous = Int32(position) }
            let current = symbols[position]
            if current.previous >= 0,
                let merge = merges[pairKey(symbols[Int(current.previous)].id, current.id)]
            {
                queue.push(
                    rank: UInt32(merge >> 32), position: current.previous, mergedID: Int32(truncatingIfNeeded: merge))
            }
            if current.next >= 0, let merge = merges[pairKey(current.id, symbols[Int(current.next)].id)] {
                queue.push(
                    rank: UInt32(merge >> 32), position: Int32(position), mergedID: Int32(truncatingIfNeeded: merge))
            }
        }
    }

    @inline(__always)
    private func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }
}

/// The ids of the byte tokens `<0x00>` … `<0xFF>` of `vocabulary`, -1 where missing.
func byteTokenIDTable(_ vocabulary: Vocabulary) -> [Int32] {
    let digits = Array("0123456789ABCDEF".unicodeScalars)
    return (0..<256).map { byte in
        var token = "<0x"
        token.unicodeScalars.append(digits[byte >> 4])
        token.unicodeScalars.append(digits[byte & 15])
        token += ">"
        return vocabulary.id(for: token) ?? -1
    }
}

// MARK: - Merge queue

/// A binary min-heap of pending merges ordered by rank, then position.
struct MergeQueue {
    struct Entry {
        var key: UInt64  // rank << 32 | position
        var mergedID: Int32
        var position: Int32 { Int32(truncatingIfNeeded: key) }
    }
    private var heap: [Entry] = []

    mutating func push(rank: UInt32, position: Int32, mergedID: Int32) {
        heap.append(Entry(key: UInt64(rank) << 32 | UInt64(UInt32(position)), mergedID: mergedID))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].key < heap[parent].key else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let top = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                guard left < heap.count else { break }
                var smallest = left
                if left + 1 < heap.count, heap[left + 1].key < heap[left].key { smallest = left + 1 }
                guard heap[smallest].key < heap[parent].key else { break }
                heap.swapAt(smallest, parent)
                parent = smallest
            }
        }
        return top
    }
}

// MARK: - Word cache

/// The ids of recently seen words, shared by all threads using a tokenizer. Bounded: once full, new words are
/// no longer stored (as tokenizers does).
final class WordCache: Sendable {
    static let capacity = 10_000
    /// Longer words are not cached.
    static let maximumWordLength = 256

    private let storage = Locked<[[UInt32]: [Int32]]>([:])

    func ids(of word: UnsafeBufferPointer<UInt32>) -> [Int32]? {
        let key = Array(word)
        return storage.withLock { $0[key] }
    }

    func store(_ ids: [Int32], for word: UnsafeBufferPointer<UInt32>) {
        let key = Array(word)
        storage.withLock { cache in
            if cache.count < Self.capacity { cache[key] = ids }
        }
    }
}
