import Foundation
import QuiverStore
import QuiverTensor
import Testing
@testable import QuiverModel

/// The parity fixtures written by `scripts/fixtures/make_adapter_fixtures.py` with the `adapters`
/// library (see docs/fixtures-adapters.md): a tiny random BERT, a padded batch, and one folder per case.
struct AdapterFixtures: Sendable {
    struct Case: Decodable, Sendable {
        let name: String
        let kind: String
        let has_head: Bool
        let labels: [String]?
        let dir: String?
        let member_dirs: [String]?
        let fusion_dir: String?
        let weights: [Float]?
        let expected: String
    }

    private struct Index: Decodable {
        let tolerance: Float
        let cases: [Case]
    }

    private struct Inputs: Decodable {
        let input_ids: [[Int32]]
        let token_type_ids: [[Int32]]
        let attention_mask: [[Int32]]
    }

    static let shared: AdapterFixtures = try! AdapterFixtures()

    let root: URL
    let base: BaseModel
    let input: EncoderInput
    let tolerance: Float
    let cases: [Case]

    private init() throws {
        root = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("adapters")
        base = try BaseModel(folder: root.appendingPathComponent("base").path)
        let index = try JSONDecoder().decode(Index.self, from: Data(contentsOf: root.appendingPathComponent("cases.json")))
        tolerance = index.tolerance
        cases = index.cases
        let inputs = try JSONDecoder().decode(Inputs.self, from: Data(contentsOf: root.appendingPathComponent("inputs.json")))
        input = try EncoderInput(
            batch: inputs.input_ids.count, sequenceLength: inputs.input_ids[0].count, ids: inputs.input_ids.flatMap { $0 },
            typeIds: inputs.token_type_ids.flatMap { $0 }, attentionMask: inputs.attention_mask.flatMap { $0 })
    }

    func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    func expected(_ relative: String) throws -> SafetensorsFile { try SafetensorsFile(path: path(relative)) }

    /// The task a case describes, loaded the way Quiver loads folders.
    func task(_ testCase: Case) throws -> TaskModel {
        let config = base.config
        func adapter(_ dir: String) throws -> TaskModel {
            try TaskModel.adapter(name: dir, files: try TaskModel.folderFiles(path(dir)), source: dir, base: config)
        }
        func bottlenecks(_ dirs: [String]) throws -> [BottleneckAdapter] {
            try dirs.map { dir in
                guard case .adapter(let member as BottleneckAdapter) = try adapter(dir).composition else { throw QuiverError(.invalidInput, "\(dir) is not a bottleneck adapter") }
                return member
            }
        }
        switch testCase.kind {
        case "fusion":
            return try TaskModel.fusion(
                name: testCase.name, files: try TaskModel.folderFiles(path(testCase.fusion_dir!)),
                members: try bottlenecks(testCase.member_dirs!), source: testCase.fusion_dir!, base: config)
        case "stack":
            return TaskModel(name: testCase.name, composition: .stack(try bottlenecks(testCase.member_dirs!)), head: nil)
        case "average":
            return TaskModel(name: testCase.name, composition: .average(try bottlenecks(testCase.member_dirs!), weights: testCase.weights!), head: nil)
        default:
            return try adapter(testCase.dir!)
        }
    }
}

/// The largest absolute difference, and a description of the first value beyond `tolerance`.
func compare(_ actual: [Float], _ expected: [Float], tolerance: Float) -> (maxError: Float, firstDifference: String?) {
    precondition(actual.count == expected.count, "compare: \(actual.count) vs \(expected.count) values")
    var maxError: Float = 0
    var first: String?
    for index in actual.indices {
        let error = abs(actual[index] - expected[index])
        if !(error <= tolerance), first == nil {
            first = "index \(index): got \(actual[index]), expected \(expected[index]); first values \(Array(actual.prefix(4))) vs \(Array(expected.prefix(4)))"
        }
        maxError = max(maxError, error.isNaN ? .infinity : error)
    }
    return (maxError, first)
}
