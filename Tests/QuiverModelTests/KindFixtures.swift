import Foundation
import QuiverTensor
import Testing

@testable import QuiverModel

/// The runnable kind fixtures written by `scripts/fixtures/make_kind_fixtures.py` (docs/fixtures-kinds.md): PEFT
/// LoRA / rsLoRA / IA³ sequence classifiers, `adapters` IA³ and prefix tuning with and without heads, and
/// `Stack("ia3", "bn")`, on the tiny BERT and the inputs of the adapter fixtures.
struct KindFixtures: Sendable {
    struct Case: Decodable, Sendable {
        let name: String
        let kind: String
        let has_head: Bool
        let labels: [String]?
        let num_labels: Int?
        let dir: String?
        let member_dirs: [String]?
        let expected: String
    }

    private struct Index: Decodable {
        let cases: [Case]
    }

    static let shared: KindFixtures = try! KindFixtures()

    /// What the tests ask of every case: the bound of the brief, tighter than the fixtures' own 1e-4.
    static let tolerance: Float = 2e-5

    let root: URL
    let cases: [Case]

    private init() throws {
        root = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("kinds")
        cases = try JSONDecoder().decode(Index.self, from: Data(contentsOf: root.appendingPathComponent("cases.json")))
            .cases
    }

    var base: BaseModel { AdapterFixtures.shared.base }
    var input: EncoderInput { AdapterFixtures.shared.input }

    func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    func testCase(_ name: String) -> Case { cases.first { $0.name == name }! }

    func expected(_ testCase: Case) throws -> SafetensorsFile { try SafetensorsFile(path: path(testCase.expected)) }

    /// A folder's files by name, as Quiver reads folders (json and safetensors; the `.bin` beside a twin is not read).
    func files(_ dir: String) throws -> [String: [UInt8]] { try TaskModel.folderFiles(path(dir)) }

    /// The task a case describes, loaded the way Quiver loads folders (a PEFT classifier on the base's pooler).
    func task(_ testCase: Case) throws -> TaskModel {
        if let members = testCase.member_dirs {
            let parts = try members.map { try adapter(files: try files($0), source: $0).composition }
            return TaskModel(name: testCase.name, composition: .kinds(try KindStack(parts)), head: nil)
        }
        return try adapter(files: try files(testCase.dir!), source: testCase.dir!)
    }

    func adapter(files: [String: [UInt8]], source: String) throws -> TaskModel {
        try TaskModel.adapter(
            name: source, files: files, source: source, base: base.config, pooler: base.encoder.weights.pooler)
    }
}

/// A safetensors file's tensors as F32 values, to edit and write back.
func editedSafetensors(_ bytes: [UInt8], _ edit: (inout [String: TensorData]) throws -> Void) throws -> [UInt8] {
    let file = try SafetensorsFile(bytes: bytes, source: "edited")
    var tensors: [String: TensorData] = [:]
    for info in file.header.tensors {
        tensors[info.name] = TensorData(shape: info.shape, floats: try file.floats(info.name))
    }
    try edit(&tensors)
    return Safetensors.serialize(tensors)
}
