
/// Orders and batches for training: deterministic from a seed on every platform and Swift version
/// (no `shuffled(using:)`, whose algorithm the standard library does not promise to keep).
extension Dataset {
    /// For each example, the index of its label in `labels`.
    public var labelIndices: [Int] {
        let index = Dictionary(uniqueKeysWithValues: labels.enumerated().map { ($1, $0) })
        return examples.map { index[$0.label]! }
    }

    /// `0..<count` in an order fixed by `seed` (Fisher–Yates with unbiased draws from `SeededGenerator`).
    public func shuffledIndices(seed: UInt64) -> [Int] {
        var generator = SeededGenerator(seed: seed)
        return Self.shuffled(Array(0..<count), using: &generator)
    }

    /// The example indices of one epoch in batches of `size` (the last may be smaller): in file order
    /// without a seed, else shuffled with a seed drawn from `seed` and `epoch`, so every epoch has its
    /// own order and a run is repeatable.
    public func batches(size: Int, seed: UInt64? = nil, epoch: Int = 0) -> [[Int]] {
        precondition(size > 0, "batches: size must be positive")
        var order = Array(0..<count)
        if let seed {
            order = shuffledIndices(seed: Self.epochSeed(seed, epoch: epoch))
        }
        return stride(from: 0, to: order.count, by: size).map { Array(order[$0..<Swift.min($0 + size, order.count)]) }
    }

    /// The `epoch`-th output of a generator seeded with `seed`: neighbouring epochs get unrelated seeds.
    static func epochSeed(_ seed: UInt64, epoch: Int) -> UInt64 {
        var generator = SeededGenerator(seed: seed)
        var value: UInt64 = 0
        for _ in 0...Swift.max(0, epoch) { value = generator.next() }
        return value
    }

    /// `items` in an order drawn from `generator` (Fisher–Yates, unbiased), the same on every platform.
    public static func shuffled<T>(_ items: [T], using generator: inout SeededGenerator) -> [T] {
        var items = items
        var index = items.count - 1
        while index > 0 {
            let other = Int(uniform(below: UInt64(index + 1), using: &generator))
            items.swapAt(index, other)
            index -= 1
        }
        return items
    }

    /// A uniform integer in `0..<bound` by rejection: draws below 2⁶⁴ mod bound are redrawn.
    static func uniform(below bound: UInt64, using generator: inout SeededGenerator) -> UInt64 {
        precondition(bound > 0)
        let threshold = (0 &- bound) % bound
        while true {
            let value = generator.next()
            if value >= threshold { return value % bound }
        }
    }
}
