/// Precision, recall and F1 of one label, with the counts they come from.
public struct LabelMetrics: Sendable, Equatable, Codable {
    /// Examples whose gold label this is.
    public var support: Int
    /// Examples predicted as this label.
    public var predicted: Int
    /// Examples both.
    public var truePositives: Int
    /// truePositives / predicted; 0 when the label is never predicted.
    public var precision: Double
    /// truePositives / support; 0 when the label never occurs.
    public var recall: Double
    /// 2·TP / (2·TP + FP + FN), the harmonic mean of precision and recall; 0 when both are 0.
    public var f1: Double

    public init(support: Int, predicted: Int, truePositives: Int) {
        self.support = support
        self.predicted = predicted
        self.truePositives = truePositives
        precision = predicted == 0 ? 0 : Double(truePositives) / Double(predicted)
        recall = support == 0 ? 0 : Double(truePositives) / Double(support)
        let denominator = support + predicted  // = 2·TP + FP + FN
        f1 = denominator == 0 ? 0 : 2 * Double(truePositives) / Double(denominator)
    }

    enum CodingKeys: String, CodingKey {
        case support, predicted
        case truePositives = "true_positives"
        case precision, recall, f1
    }
}

/// Accuracy, macro-F1 and per-label figures of single-label predictions.
///
/// Macro-F1 is the unweighted mean of the per-label F1 over the labels that occur in the gold
/// labels or the predictions (labels absent from both are left out), with F1 = 0 for a label
/// whose precision and recall are both 0 — what scikit-learn's
/// `f1_score(gold, predicted, average="macro")` computes (`zero_division=0`).
public struct ClassificationMetrics: Sendable, Equatable {
    public let confusion: ConfusionMatrix
    /// In the order of `confusion.labels`, every label (also those absent from gold and predictions).
    public let perLabel: [LabelMetrics]
    /// Correct predictions / examples; 0 without examples.
    public let accuracy: Double
    public let macroF1: Double

    public var labels: [String] { confusion.labels }
    public var examples: Int { confusion.total }

    public init(confusion: ConfusionMatrix) {
        self.confusion = confusion
        perLabel = confusion.labels.indices.map { label in
            LabelMetrics(support: confusion.support(label), predicted: confusion.predicted(label), truePositives: confusion.counts[label][label])
        }
        accuracy = confusion.total == 0 ? 0 : Double(confusion.correct) / Double(confusion.total)
        let present = perLabel.filter { $0.support > 0 || $0.predicted > 0 }
        macroF1 = present.isEmpty ? 0 : present.reduce(0) { $0 + $1.f1 } / Double(present.count)
    }

    /// From parallel lists of label indices into `labels`.
    public init(labels: [String], gold: [Int], predicted: [Int]) {
        self.init(confusion: ConfusionMatrix(labels: labels, gold: gold, predicted: predicted))
    }
}
