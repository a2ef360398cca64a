import Foundation
import QuiverStore
import QuiverTensor
import Testing

@testable import QuiverModel
import QuiverRuntime

/// Loading a base model from a folder, from files in memory and from a registry, and the errors for what does not fit.
@Suite struct EncoderLoadingTests {
    /// A temporary folder, removed at the end.
    final class TemporaryFolder {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-encoder-\(UUID().uuidString)")
            .path

        init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }

        /// A copy of a fixture model folder, to damage.
        func copy(fixture name: String) throws -> String {
            let destination = path + "/" + name
            try FileManager.default.copyItem(atPath: EncoderFixtures.modelFolder(name), toPath: destination)
            return destination
        }
    }

    static func input(_ model: BaseModel) -> EncoderInput {
        EncoderInput(model.tokenizer.encodeBatch(["Hello, world!", "Café 北京 numbers 3.14"], maxLength: 32))
    }

    @Test(arguments: ["tiny-bert", "tiny-bert-relu-f16"])
    func registryGivesTheFolderModel(name: String) throws {
        let temporary = try TemporaryFolder()
        let registry = try Registry(home: temporary.path + "/registry")
        try registry.addBase(folder: EncoderFixtures.modelFolder(name))
        let fromRegistry = try BaseModel(registry: registry, base: nil)
        let fromFolder = try EncoderFixtures.model(name)
        #expect(fromRegistry.name == name)
        let (registryTokenizer, folderTokenizer) = (fromRegistry.tokenizer as? BertTokenizer, fromFolder.tokenizer as? BertTokenizer)
        #expect(registryTokenizer != nil && registryTokenizer?.vocabulary.tokens == folderTokenizer?.vocabulary.tokens)
        #expect(fromRegistry.maxLength == fromFolder.maxLength)
        let input = Self.input(fromFolder)
        #expect(
            EncoderInput(fromRegistry.tokenizer.encodeBatch(["Hello, world!", "Café 北京 numbers 3.14"], maxLength: 32))
                == input)
        #expect(try fromRegistry.encoder.forward(input).values == fromFolder.encoder.forward(input).values)
    }

    @Test func registryErrorsNameTheProblem() throws {
        let temporary = try TemporaryFolder()
        let registry = try Registry(home: temporary.path + "/registry")
        #expect(throws: QuiverError.self) { try BaseModel(registry: registry, base: nil) }
        do {
            _ = try BaseModel(registry: registry, base: nil)
        } catch let error as QuiverError {
            #expect(error.kind == .notFound && error.message.contains("no base model"))
        }
        try registry.addBase(folder: EncoderFixtures.modelFolder("tiny-bert"), name: "one")
        try registry.addBase(folder: EncoderFixtures.modelFolder("tiny-bert-relu-f16"), name: "two")
        #expect(try BaseModel(registry: registry, base: "two").encoder.activation == .relu)
        #expect(Self.error { try BaseModel(registry: registry, base: nil) }?.kind == .invalidInput)
        #expect(Self.error { try BaseModel(registry: registry, base: "three") }?.kind == .notFound)
    }

    @Test func unsupportedActivationIsAnErrorNamingConfig() throws {
        let temporary = try TemporaryFolder()
        let folder = try temporary.copy(fixture: "tiny-bert")
        try Self.edit(folder + "/config.json") { $0.replacingOccurrences(of: "\"gelu\"", with: "\"mish\"") }
        let error = Self.error { try BaseModel(folder: folder) }
        #expect(error?.kind == .unsupported)
        #expect(
            error?.message.contains("config.json") == true && error?.message.contains("mish") == true,
            "\(error?.message ?? "")")
    }

    @Test func missingTensorIsAnError() throws {
        let temporary = try TemporaryFolder()
        let folder = try temporary.copy(fixture: "tiny-bert")
        let file = try SafetensorsFile(path: EncoderFixtures.modelFolder("tiny-bert") + "/model.safetensors")
        var tensors: [String: TensorData] = [:]
        for name in file.tensorNames where name != "encoder.layer.1.output.dense.bias" {
            tensors[name] = try file.tensorData(name)
        }
        try Data(Safetensors.serialize(tensors)).write(to: URL(fileURLWithPath: folder + "/model.safetensors"))
        let error = Self.error { try BaseModel(folder: folder) }
        #expect(error?.message.contains("encoder.layer.1.output.dense.bias") == true, "\(error?.message ?? "")")
    }

    @Test func bfloat16WeightsAreConverted() throws {
        let temporary = try TemporaryFolder()
        let folder = try temporary.copy(fixture: "tiny-bert")
        let file = try SafetensorsFile(path: EncoderFixtures.modelFolder("tiny-bert") + "/model.safetensors")
        var tensors: [String: TensorData] = [:]
        for name in file.tensorNames {
            tensors[name] = TensorData(shape: try file.info(name).shape, floats: try file.floats(name), dtype: .bf16)
        }
        try Data(Safetensors.serialize(tensors)).write(to: URL(fileURLWithPath: folder + "/model.safetensors"))
        let model = try BaseModel(folder: folder)
        let expected = try file.floats("embeddings.word_embeddings.weight").map {
            FloatConversion.float(fromBFloat16: FloatConversion.bfloat16(from: $0))
        }
        let converted = model.encoder.weights.embeddings.words.array
        #expect(converted == expected, "max |difference| \(maxAbsDifference(converted, expected))")
        #expect(converted != (try file.floats("embeddings.word_embeddings.weight")), "BF16 rounds")
    }

    @Test func tokenizerLargerThanTheModelIsIncompatible() throws {
        let temporary = try TemporaryFolder()
        let folder = try temporary.copy(fixture: "tiny-bert")
        try Self.edit(folder + "/vocab.txt") { $0 + "extra\n" }
        let error = Self.error { try BaseModel(folder: folder) }
        #expect(error?.kind == .incompatible, "\(error?.message ?? "")")
    }

    @Test func folderWithoutWeightsIsAnError() throws {
        let temporary = try TemporaryFolder()
        let folder = try temporary.copy(fixture: "tiny-bert")
        try FileManager.default.removeItem(atPath: folder + "/model.safetensors")
        #expect(Self.error { try BaseModel(folder: folder) }?.message.contains("missing model.safetensors") == true)
        #expect(
            Self.error { try BaseModel(folder: temporary.path + "/nothing") }?.message.contains("not a folder") == true)
    }

    // MARK: - Input errors

    @Test func badInputsAreErrors() throws {
        let encoder = try RandomEncoder.encoder()
        #expect(throws: EncoderError.tokenIDOutOfRange(item: 1, position: 0, id: 50, vocabSize: 50)) {
            try encoder.forward(EncoderInput(batch: 2, sequenceLength: 2, ids: [1, 2, 50, 3]))
        }
        #expect(throws: EncoderError.tokenTypeOutOfRange(item: 0, position: 1, typeID: 2, typeVocabSize: 2)) {
            try encoder.forward(EncoderInput(batch: 1, sequenceLength: 2, ids: [1, 2], typeIds: [0, 2]))
        }
        #expect(throws: EncoderError.sequenceTooLong(length: 65, maxPositions: 64)) {
            try encoder.forward(EncoderInput(batch: 1, sequenceLength: 65, ids: [Int32](repeating: 1, count: 65)))
        }
        #expect(throws: EncoderError.self) { try EncoderInput(batch: 2, sequenceLength: 3, ids: [1, 2, 3]) }
        var shape = RandomEncoder.Shape()
        shape.activation = "quick_gelu"
        #expect(throws: EncoderError.unsupportedActivation("quick_gelu")) { try RandomEncoder.encoder(shape) }
        #expect(EncoderError.unsupportedActivation("quick_gelu").description.contains("gelu_new"))
    }

    @Test func emptyBatchGivesEmptyStates() throws {
        let encoder = try RandomEncoder.encoder()
        let states = try encoder.forward(EncoderInput(batch: 0, sequenceLength: 0, ids: []))
        #expect(states.values.isEmpty && states.pooled(.mean).isEmpty)
    }

    // MARK: - Helpers

    static func error(_ body: () throws -> Any) -> QuiverError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? QuiverError
        }
    }

    static func edit(_ path: String, _ change: (String) -> String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try change(text).write(toFile: path, atomically: true, encoding: .utf8)
    }
}
