import Foundation
import Testing

@testable import QuiverModel
@testable import QuiverStore

/// How gold labels of a data file map onto a head's labels, and the error for a label it lacks.
@Suite struct EvaluationGoldLabelsTests {
    let head = ["negative", "positive"]

    @Test func byName() throws {
        let data = try DataFiles.parse("text,label\na,positive\nb,negative\nc,positive\n", name: "d.csv")
        #expect(try GoldLabels.indices(of: data, in: head, task: "sentiment:1") == [1, 0, 1])
    }

    @Test func integersAsIndices() throws {
        let data = try DataFiles.parse("{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\", \"label\": 0}\n", name: "d.jsonl")
        #expect(try GoldLabels.indices(of: data, in: head, task: "sentiment:1") == [1, 0])
        // Names win when the head's labels are themselves numbers: "1" is the label named "1", not index 1.
        #expect(try GoldLabels.indices(of: data, in: ["1", "0"], task: "t:1") == [0, 1])
    }

    @Test func unknownNameNamesTheLineAndTheKnownLabels() throws {
        let data = try DataFiles.parse("text,label\na,positive\n\nb,neutral\nc,other\n", name: "d.csv")
        let message = DataFiles.error { _ = try GoldLabels.indices(of: data, in: head, task: "sentiment:1") }
        #expect(message == "d.csv:4: unknown label \"neutral\": sentiment:1 has the labels \"negative\", \"positive\"")
    }

    @Test func integerOutOfRange() throws {
        let data = try DataFiles.parse("text,label\na,1\nb,2\n", name: "d.csv")
        let message = DataFiles.error { _ = try GoldLabels.indices(of: data, in: head, task: "sentiment:1") }
        #expect(message == "d.csv:3: unknown label 2: sentiment:1 has the labels \"negative\", \"positive\", and integer labels are read as indices only below 2")
    }

    @Test func longLabelListsAreCut() {
        let labels = (0..<25).map { "l\($0)" }
        #expect(GoldLabels.describe(labels).hasSuffix("\"l19\", … (25 in all)"))
    }
}
