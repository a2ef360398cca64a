import Foundation
import Testing

@testable import QuiverModel

/// Accuracy, per-label figures and macro-F1 against values worked out by hand and scikit-learn's rules.
@Suite struct EvaluationMetricsTests {
    static func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 }

    @Test func handComputedThreeLabels() {
        // gold a a b b c, predicted a b b b a:
        //   a: support 2, predicted 2, TP 1 → P 1/2, R 1/2, F1 1/2
        //   b: support 2, predicted 3, TP 2 → P 2/3, R 1,   F1 2·2/(2+3) = 0.8
        //   c: support 1, predicted 0, TP 0 → P 0 (never predicted), R 0, F1 0
        //   accuracy 3/5, macro-F1 (0.5 + 0.8 + 0)/3
        let metrics = ClassificationMetrics(labels: ["a", "b", "c"], gold: [0, 0, 1, 1, 2], predicted: [0, 1, 1, 1, 0])
        #expect(metrics.examples == 5)
        #expect(Self.close(metrics.accuracy, 0.6))
        #expect(Self.close(metrics.macroF1, 1.3 / 3))
        #expect(metrics.perLabel.map(\.support) == [2, 2, 1])
        #expect(metrics.perLabel.map(\.predicted) == [2, 3, 0])
        #expect(metrics.perLabel.map(\.truePositives) == [1, 2, 0])
        for (got, want) in zip(metrics.perLabel.map(\.precision), [0.5, 2.0 / 3, 0]) { #expect(Self.close(got, want)) }
        for (got, want) in zip(metrics.perLabel.map(\.recall), [0.5, 1, 0]) { #expect(Self.close(got, want)) }
        for (got, want) in zip(metrics.perLabel.map(\.f1), [0.5, 0.8, 0]) { #expect(Self.close(got, want)) }
        #expect(metrics.confusion.counts == [[1, 1, 0], [0, 2, 0], [1, 0, 0]])
    }

    @Test func labelsAbsentFromGoldAndPredictionsAreLeftOutOfMacroF1() {
        // Labels c and d never occur: macro-F1 averages a (F1 2·1/(1+2) = 2/3) and b (0) only.
        let metrics = ClassificationMetrics(labels: ["a", "b", "c", "d"], gold: [0, 1], predicted: [0, 0])
        #expect(Self.close(metrics.macroF1, 1.0 / 3))
        #expect(metrics.perLabel[2] == LabelMetrics(support: 0, predicted: 0, truePositives: 0))
        #expect(metrics.perLabel[2].f1 == 0)
    }

    @Test func aLabelOnlyPredictedCountsWithF1Zero() {
        // gold x x x y, predicted x z x y: x F1 2·2/(3+2) = 0.8, y 1, z (support 0, predicted 1) 0.
        let metrics = ClassificationMetrics(labels: ["x", "y", "z"], gold: [0, 0, 0, 1], predicted: [0, 2, 0, 1])
        #expect(Self.close(metrics.macroF1, 0.6))
        #expect(metrics.perLabel[2].recall == 0 && metrics.perLabel[2].precision == 0)
        #expect(Self.close(metrics.accuracy, 0.75))
    }

    @Test func matchesScikitLearnOnThirtyExamples() {
        // Expected values from a pure-Python transcription of scikit-learn's
        // precision_recall_fscore_support / f1_score(average="macro") (labels = union of gold and
        // predictions, zero_division=0), run once on these lists (scikit-learn itself is not installed).
        let gold = [0, 1, 2, 3, 1, 1, 0, 2, 2, 3, 0, 1, 2, 1, 0, 3, 3, 2, 1, 0, 1, 2, 0, 0, 1, 3, 2, 1, 1, 0]
        let predicted = [0, 1, 2, 1, 1, 0, 0, 2, 1, 3, 2, 1, 2, 1, 1, 3, 0, 2, 1, 0, 2, 2, 0, 1, 1, 3, 3, 1, 0, 0]
        let metrics = ClassificationMetrics(labels: ["w", "x", "y", "z"], gold: gold, predicted: predicted)
        #expect(metrics.perLabel.map(\.support) == [8, 10, 7, 5])
        #expect(metrics.perLabel.map(\.predicted) == [8, 11, 7, 4])
        #expect(metrics.perLabel.map(\.truePositives) == [5, 7, 5, 3])
        for (got, want) in zip(metrics.perLabel.map(\.precision), [0.625, 0.6363636363636364, 0.7142857142857143, 0.75]) {
            #expect(Self.close(got, want))
        }
        for (got, want) in zip(metrics.perLabel.map(\.recall), [0.625, 0.7, 0.7142857142857143, 0.6]) { #expect(Self.close(got, want)) }
        for (got, want) in zip(metrics.perLabel.map(\.f1), [0.625, 0.6666666666666666, 0.7142857142857143, 0.6666666666666665]) {
            #expect(Self.close(got, want))
        }
        #expect(Self.close(metrics.accuracy, 0.6666666666666666))
        #expect(Self.close(metrics.macroF1, 0.6681547619047619))
    }

    @Test func noExamples() {
        let metrics = ClassificationMetrics(labels: ["a", "b"], gold: [], predicted: [])
        #expect(metrics.accuracy == 0 && metrics.macroF1 == 0 && metrics.examples == 0)
    }

    @Test func confusionMatricesAdd() {
        var total = ConfusionMatrix(labels: ["a", "b"], gold: [0, 1], predicted: [1, 1])
        total.add(ConfusionMatrix(labels: ["a", "b"], gold: [0], predicted: [0]))
        #expect(total.counts == [[1, 1], [0, 1]])
        #expect(total.total == 3 && total.correct == 2 && total.support(0) == 2 && total.predicted(1) == 2)
    }

    @Test func reportJSONShape() throws {
        let report = EvaluationReport(task: "sentiment:1", metrics: ClassificationMetrics(labels: ["neg", "pos"], gold: [0, 1, 1], predicted: [0, 0, 1]))
        let object = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(report)) as! [String: Any]
        #expect(Set(object.keys) == ["task", "accuracy", "macro_f1", "per_label", "examples", "confusion"])
        #expect(object["task"] as? String == "sentiment:1")
        #expect(object["examples"] as? Int == 3)
        let perLabel = object["per_label"] as! [String: [String: Any]]
        #expect(Set(perLabel.keys) == ["neg", "pos"])
        #expect(Set(perLabel["pos"]!.keys) == ["support", "predicted", "true_positives", "precision", "recall", "f1"])
        #expect(perLabel["neg"]!["predicted"] as? Int == 2)
        #expect(object["confusion"] as? [String: [String: Int]] == ["neg": ["neg": 1, "pos": 0], "pos": ["neg": 1, "pos": 1]])
    }
}
