import Foundation
import QuiverRuntime
import QuiverStore
import QuiverTensor
import Testing

@testable import QuiverModel

/// RoBERTa, XLM-RoBERTa and DistilBERT on the one encoder: config fields, checkpoint names, positions after the padding
/// index, no token types, and every adapter kind the engine runs in each layout — against `transformers`, `adapters`
/// and `peft` (fixtures from scripts/fixtures/make_family_fixtures.py).
@Suite struct EncoderFamilyTests {
    struct Case: Decodable {
        let ids: [[Int32]]
        let typeIds: [[Int32]]
        let attentionMask: [[Int32]]

        var input: EncoderInput {
            get throws {
                try EncoderInput(
                    batch: ids.count, sequenceLength: ids[0].count, ids: ids.flatMap { $0 }, typeIds: typeIds.flatMap { $0 },
                    attentionMask: attentionMask.flatMap { $0 })
            }
        }
    }

    struct AdapterCase: Decodable {
        let model: String
        let dir: String
        let hasHead: Bool
        let memberDirs: [String]?
    }

    struct TrainingCase: Decodable {
        let model: String
        let dir: String
        let labels: [Int]
    }

    struct Document: Decodable {
        let models: [String: Case]
        let adapters: [String: AdapterCase]
        let training: [String: TrainingCase]
        let texts: [String]
        let pairs: [String?]
    }

    static let folder = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("families")
    static let document: Document = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try! decoder.decode(Document.self, from: Data(contentsOf: folder.appendingPathComponent("expected.json")))
    }()
    static let expected = try! SafetensorsFile(path: folder.appendingPathComponent("expected.safetensors").path)

    /// The largest difference over the rows of real tokens.
    static func largestDifference(_ values: [Float], _ reference: [Float], mask: [Int32], width: Int) -> Float {
        var largest: Float = 0
        for row in mask.indices where mask[row] == 1 {
            for column in 0..<width { largest = max(largest, abs(values[row * width + column] - reference[row * width + column])) }
        }
        return largest
    }

    static func encoder(_ name: String) throws -> BertEncoder {
        let path = folder.appendingPathComponent(name).path
        let config = try BertConfig.load(path: path + "/config.json")
        let weights = try BertEncoderWeights(safetensors: try SafetensorsFile(path: path + "/model.safetensors"), config: config)
        return try BertEncoder(config: config, weights: weights)
    }

    @Test(arguments: ["roberta", "xlm-roberta", "distilbert"])
    func hiddenStatesMatchTransformers(_ name: String) throws {
        let testCase = try #require(Self.document.models[name])
        let encoder = try Self.encoder(name)
        let states = try encoder.forward(try testCase.input)
        let largest = Self.largestDifference(
            states.values, try Self.expected.floats(name + ".hidden"), mask: testCase.attentionMask.flatMap { $0 }, width: encoder.hiddenSize)
        #expect(largest <= 1e-4, "\(name): largest difference \(largest)")
    }

    /// Each kind in RoBERTa's and DistilBERT's layouts (`transformer.layer.N.attention_adapters`, `attention.q_lin`,
    /// `ffn.lin1`…): hidden states and logits as the libraries compute them.
    @Test(arguments: Self.document.adapters.keys.sorted())
    func adaptersMatchTheLibraries(_ name: String) throws {
        let testCase = try #require(Self.document.adapters[name])
        let model = try #require(Self.document.models[testCase.model])
        let encoder = try Self.encoder(testCase.model)
        let path = Self.folder.appendingPathComponent(testCase.dir).path
        let task: TaskModel
        if let memberDirs = testCase.memberDirs {
            let members = try memberDirs.map { dir in
                let member = try TaskModel.adapter(
                    name: dir, folder: try AdapterFolder(path: Self.folder.appendingPathComponent(dir).path), base: encoder.config)
                guard case .adapter(let adapter as BottleneckAdapter) = member.composition else { throw QuiverError(.invalidInput, "\(dir): not a bottleneck adapter") }
                return adapter
            }
            task = try TaskModel.fusion(name: name, files: try TaskModel.folderFiles(path), members: members, source: path, base: encoder.config)
        } else {
            task = try TaskModel.adapter(name: name, folder: try AdapterFolder(path: path), base: encoder.config)
        }
        let input = try model.input
        let states = try encoder.forward(input, hooks: CompositionHooks(task.composition, batch: input.batch))
        let mask = model.attentionMask.flatMap { $0 }
        let hidden = Self.largestDifference(states.values, try Self.expected.floats(name + ".hidden"), mask: mask, width: encoder.hiddenSize)
        #expect(hidden <= 1e-4, "\(name): hidden states differ by \(hidden)")
        if testCase.hasHead {
            let head = try #require(task.head)
            let logits = head.logits(states).flatMap { $0 }
            let reference = try Self.expected.floats(name + ".logits")
            let largest = zip(logits, reference).map { abs($0 - $1) }.max() ?? .infinity
            #expect(logits.count == reference.count && largest <= 1e-4, "\(name): logits differ by \(largest)")
        } else {
            #expect(task.head == nil)
        }
    }

    /// The registry's path from text to logits on each family: the base added with its tokenizer (byte-level BPE,
    /// Unigram, WordPiece), adapters pushed, a fusion imported, several tasks at once over texts and pairs — the
    /// logits of the family's fast tokenizer and the libraries.
    @Test(arguments: ["roberta", "xlm-roberta", "distilbert"])
    func textsThroughTheRegistryGiveTheLibrariesLogits(_ family: String) throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-families-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: home) }
        let registry = try Registry(home: home)
        let base = try registry.addBase(folder: Self.folder.appendingPathComponent(family).path, name: family).base
        #expect(base.runnable, "\(family): \(base.engineNote ?? "")")
        var references: [Reference] = []
        var names: [String] = []
        for (name, testCase) in Self.document.adapters.sorted(by: { $0.key < $1.key }) where testCase.model == family && testCase.hasHead {
            let reference = try Reference(parsing: name)
            let path = Self.folder.appendingPathComponent(testCase.dir).path
            if let memberDirs = testCase.memberDirs {
                let members = try memberDirs.enumerated().map { index, dir in
                    let member = try Reference(parsing: "\(name)-member-\(index)")
                    try registry.push(member, folder: Self.folder.appendingPathComponent(dir).path)
                    return member
                }
                try registry.importFusion(members: members, as: reference, folder: path)
            } else {
                let pushed = try registry.push(reference, folder: path)
                #expect(pushed.artifact.runnable, "\(name): \(pushed.artifact.engineNote ?? "")")
            }
            references.append(reference)
            names.append(name)
        }
        #expect(names.count == 3)
        let (model, tasks) = try registry.loadTasks(references)
        let results = try MultiTaskRunner(base: model, batchSize: 2).predict(tasks, texts: Self.document.texts, pairs: Self.document.pairs)
        for (name, result) in zip(names, results) {
            let logits = result.results.flatMap { $0.logits! }
            let reference = try Self.expected.floats(name + ".text_logits")
            let largest = zip(logits, reference).map { abs($0 - $1) }.max() ?? .infinity
            #expect(logits.count == reference.count && largest <= 1e-4, "\(name): logits from texts differ by \(largest)")
        }
    }

    /// One training step on each family, from the folder the library saved: the loss and every trainable gradient
    /// equal the library's, under the names it saves them with (`roberta.encoder.layer.N.…`,
    /// `transformer.layer.N.attention.q_lin.loras.…`) — which are the names a trained adapter is exported with.
    @Test(arguments: Self.document.training.keys.sorted())
    func gradientsMatchTheLibrary(_ name: String) throws {
        let testCase = try #require(Self.document.training[name])
        let model = try #require(Self.document.models[testCase.model])
        let encoder = try Self.encoder(testCase.model)
        let path = Self.folder.appendingPathComponent(testCase.dir).path
        let task = try TrainableTask.loading(files: try TaskModel.folderFiles(path), source: path, base: encoder)
        var random = SeededGenerator(seed: 1)
        let (loss, _) = try task.trainStep(TrainingBatch(input: try model.input, labels: testCase.labels), dropout: false, random: &random)
        expectClose([loss], try Self.expected.floats(name + ".loss"), relative: 1e-4, "\(name) loss")

        let prefix = name + "/grad/"
        let expectedNames = Set(Self.expected.header.tensors.map(\.name).filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) })
        let names = Set(task.parameters.map(\.name))
        #expect(names == expectedNames, "\(name): \(names.symmetricDifference(expectedNames).sorted())")
        for parameter in task.parameters where expectedNames.contains(parameter.name) {
            expectClose(parameter.gradient.array, try Self.expected.floats(prefix + parameter.name), relative: 1e-4, "\(name) \(parameter.name)")
        }
    }

    @Test func familyFieldsAreRead() throws {
        let roberta = try BertConfig.load(path: Self.folder.appendingPathComponent("roberta/config.json").path)
        #expect(roberta.family == .roberta && roberta.positionOffset == 2 && roberta.usablePositions == 62)
        let xlmr = try BertConfig.load(path: Self.folder.appendingPathComponent("xlm-roberta/config.json").path)
        #expect(xlmr.family == .xlmRoberta && xlmr.positionOffset == 2 && xlmr.layerNormEps == 1e-5)
        let distil = try BertConfig.load(path: Self.folder.appendingPathComponent("distilbert/config.json").path)
        #expect(distil.family == .distilbert && distil.hiddenSize == 32 && distil.layerCount == 2 && distil.intermediateSize == 48)
        #expect(distil.hiddenAct == "relu" && distil.positionOffset == 0 && distil.layerNormEps == 1e-12)
    }

    /// A RoBERTa sequence may use every position after the padding index, and no more.
    @Test func robertaSequencesStopAtTheLastPosition() throws {
        let encoder = try Self.encoder("roberta")
        let usable = encoder.config.usablePositions
        _ = try encoder.forward(try EncoderInput(batch: 1, sequenceLength: usable, ids: Array(repeating: 5, count: usable)))
        #expect(throws: EncoderError.self) {
            _ = try encoder.forward(try EncoderInput(batch: 1, sequenceLength: usable + 1, ids: Array(repeating: 5, count: usable + 1)))
        }
    }

    @Test func hostileFamilyConfigsAreRefused() throws {
        func config(_ fields: [String: Any]) throws -> BertConfig {
            try BertConfig(json: JSONParser.parse(Array(try JSONSerialization.data(withJSONObject: fields))), source: "config.json")
        }
        let roberta: [String: Any] = [
            "model_type": "roberta", "vocab_size": 10, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
            "intermediate_size": 16, "max_position_embeddings": 8,
        ]
        #expect(try config(roberta).positionOffset == 2)
        for pad in [7, 8, Int.max] {
            #expect(throws: QuiverError.self, "pad_token_id \(pad)") { try config(roberta.merging(["pad_token_id": pad]) { $1 }) }
        }
        #expect(throws: QuiverError.self) { try config(["model_type": "distilbert", "vocab_size": 10, "dim": 8, "n_layers": 1, "n_heads": 3, "hidden_dim": 16]) }
    }
}
