/// Counts of (gold label, predicted label) pairs over a fixed label list.
public struct ConfusionMatrix: Sendable, Equatable {
    public let labels: [String]
    /// `counts[gold][predicted]`, indices into `labels`.
    public private(set) var counts: [[Int]]

    public init(labels: [String]) {
        self.labels = labels
        counts = Array(repeating: Array(repeating: 0, count: labels.count), count: labels.count)
    }

    /// From parallel lists of label indices.
    public init(labels: [String], gold: [Int], predicted: [Int]) {
        precondition(gold.count == predicted.count, "ConfusionMatrix: one prediction per gold label")
        self.init(labels: labels)
        for (g, p) in zip(gold, predicted) { add(gold: g, predicted: p) }
    }

    public mutating func add(gold: Int, predicted: Int) {
        counts[gold][predicted] += 1
    }

    /// Adds another matrix over the same labels (for counts gathered in parts).
    public mutating func add(_ other: ConfusionMatrix) {
        precondition(other.labels == labels, "ConfusionMatrix: different labels")
        for g in counts.indices { for p in counts.indices { counts[g][p] += other.counts[g][p] } }
    }

    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
    public var correct: Int { counts.indices.reduce(0) { $0 + counts[$1][$1] } }
    /// Examples whose gold label is `label` (row sum).
    public func support(_ label: Int) -> Int { counts[label].reduce(0, +) }
    /// Examples predicted as `label` (column sum).
    public func predicted(_ label: Int) -> Int { counts.reduce(0) { $0 + $1[label] } }
}
