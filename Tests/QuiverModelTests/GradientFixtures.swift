import Foundation
import QuiverStore
import QuiverTensor
import Testing
@testable import QuiverModel

/// The gradient parity fixtures written by `scripts/fixtures/make_gradient_fixtures.py` with the `adapters`
/// library and PEFT (docs/fixtures-gradients.md): for one batch on the tiny BERT of the adapter fixtures, the loss,
/// logits and every trainable gradient of 18 cases.
struct GradientFixtures: Sendable {
    struct Case: Decodable, Sendable {
        let name: String
        let kind: String
        let dir: String?
        let member_dirs: [String]?
        let fusion_dir: String?
        let regularization: Bool
        let analytically_zero: [String]
        let gradients: String
    }

    private struct Index: Decodable {
        let tolerance: Float
        let cases: [Case]
    }

    static let shared: GradientFixtures = try! GradientFixtures()
    static let labels = [0, 2, 1, 1]

    let root: URL
    let tolerance: Float
    let cases: [Case]

    private init() throws {
        root = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("gradients")
        let index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: root.appendingPathComponent("cases.json")))
        tolerance = index.tolerance
        cases = index.cases
    }

    func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    func testCase(_ name: String) -> Case { cases.first { $0.name == name }! }

    func files(_ relative: String) throws -> [String: [UInt8]] { try TaskModel.folderFiles(path(relative)) }

    /// The case's saved folders, loaded to continue training (dropout off, as the fixtures).
    func model(_ testCase: Case) throws -> TrainableTask {
        let base = AdapterFixtures.shared.base.encoder
        if testCase.kind == "fusion" {
            return try TrainableTask.loadingFusion(
                files: try files(testCase.fusion_dir!), members: try testCase.member_dirs!.map { try files($0) },
                source: testCase.fusion_dir!, base: base, unfreezeMembers: testCase.name.hasSuffix("unfrozen"))
        }
        return try TrainableTask.loading(files: try files(testCase.dir!), source: testCase.dir!, base: base)
    }

    var batch: TrainingBatch { TrainingBatch(input: AdapterFixtures.shared.input, labels: Self.labels) }
}

/// `max|actual − expected| ≤ tolerance · max|expected|`, with a message naming the first differing values.
func expectClose(
    _ actual: [Float], _ expected: [Float], relative tolerance: Float, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual.count == expected.count else {
        Issue.record("\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    let scale = expected.map(abs).max() ?? 0
    let result = compare(actual, expected, tolerance: tolerance * max(scale, Float.leastNormalMagnitude))
    #expect(
        result.firstDifference == nil,
        "\(what): max error \(result.maxError) (scale \(scale)); \(result.firstDifference ?? "")",
        sourceLocation: sourceLocation)
}
