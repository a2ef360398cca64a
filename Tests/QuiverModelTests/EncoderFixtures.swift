import Foundation
import QuiverModel
import QuiverTensor
import Testing

// MARK: - Parity fixtures written by scripts/fixtures/make_encoder_fixtures.py

/// `Fixtures/encoder/expected.json`: the cases run through `transformers`, per tiny model.
struct EncoderParityDocument: Decodable, Sendable {
    let transformers: String
    let torch: String
    let models: [Model]

    struct Model: Decodable, Sendable {
        /// The model folder under `Fixtures/encoder`.
        let folder: String
        let cases: [Case]
    }

    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        let label: String
        let texts: [String]
        let pairs: [String]?
        let maxLength: Int
        let ids: [[Int32]]
        let typeIds: [[Int32]]
        let attentionMask: [[Int32]]

        var testDescription: String { label }
    }
}

/// `Fixtures/encoder/minilm.json`: all-MiniLM-L6-v2 on a padded batch.
struct MiniLMExpected: Decodable, Sendable {
    let texts: [String]
    let maxLength: Int
    let ids: [[Int32]]
    let cls: [[Float]]
    let mean: [[Float]]
    let firstTokenHiddenOfText0: [[Float]]
}

enum EncoderFixtures {
    /// `Fixtures/encoder` in the test bundle.
    static var folder: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("encoder")
    }

    static func modelFolder(_ name: String) -> String { folder.appendingPathComponent(name).path }

    static func decode<T: Decodable>(_ type: T.Type, _ file: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(type, from: Data(contentsOf: folder.appendingPathComponent(file)))
    }

    /// The parsed expected.json, read once per test process.
    static func parity() throws -> EncoderParityDocument { try parityResult.get() }
    private static let parityResult = Result { try decode(EncoderParityDocument.self, "expected.json") }

    /// expected.safetensors: `<model>.<case>.hidden|cls|mean|pooler`, F32.
    static func tensors() throws -> SafetensorsFile { try tensorsResult.get() }
    private static let tensorsResult = Result {
        try SafetensorsFile(path: folder.appendingPathComponent("expected.safetensors").path)
    }

    /// The tiny models, loaded once per test process.
    static func model(_ name: String) throws -> BaseModel {
        try models[name, default: .failure(FixtureError.unknownModel(name))].get()
    }
    private static let models: [String: Result<BaseModel, any Error>] = Dictionary(
        uniqueKeysWithValues: ["tiny-bert", "tiny-bert-relu-f16"].map { name in
            (name, Result { try BaseModel(folder: modelFolder(name)) })
        })

    enum FixtureError: Error { case unknownModel(String) }
}

// MARK: - Comparing floats

/// Nil when every |actual − expected| ≤ tolerance; otherwise the largest difference, where it is, and the first
/// differing values side by side (llm.c's test_gpt2 style).
func floatDifference(_ actual: [Float], _ expected: [Float], tolerance: Float, width: Int? = nil) -> String? {
    guard actual.count == expected.count else { return "\(actual.count) values, expected \(expected.count)" }
    var worst: (index: Int, difference: Float) = (0, 0)
    var differing: [Int] = []
    for index in actual.indices {
        let difference = abs(actual[index] - expected[index])
        if !(difference <= tolerance) {
            if differing.count < 5 { differing.append(index) }
            if !(difference <= worst.difference) { worst = (index, difference) }
        }
    }
    guard !differing.isEmpty else { return nil }
    func place(_ index: Int) -> String {
        guard let width else { return "[\(index)]" }
        return "[row \(index / width), column \(index % width)]"
    }
    let firsts = differing.map { "\(place($0)) \(actual[$0]) vs \(expected[$0])" }.joined(separator: ", ")
    return "max |difference| \(worst.difference) at \(place(worst.index)) > \(tolerance); first differing "
        + "(actual vs expected): \(firsts)"
}

/// The largest |a − b|; infinity when the lengths differ or a value is NaN (`max` would skip a NaN).
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).reduce(0) { worst, pair in
        let difference = abs(pair.0 - pair.1)
        return difference <= worst ? worst : (difference.isNaN ? .infinity : difference)
    }
}
