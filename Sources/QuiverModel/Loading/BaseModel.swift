import Foundation
import QuiverTensor

/// A base model ready to run: its configuration, encoder and tokenizer, loaded from a registry or from a Hugging
/// Face model folder (`config.json`, `model.safetensors`, the tokenizer's files: `tokenizer.json`, or `vocab.txt`,
/// `vocab.json` + `merges.txt`, `sentencepiece.bpe.model` with their configs — see `Tokenizers`).
///
/// ```swift
/// let model = try BaseModel(registry: Registry(home: "…/registry"), base: nil)  // the only base
/// let states = try model.encoder.forward(EncoderInput(model.tokenizer.encode("Hello!")))
/// ```
public struct BaseModel: Sendable {
    /// The name in the registry, or the folder's name.
    public let name: String
    public let config: BertConfig
    public let encoder: BertEncoder
    public let tokenizer: any TextTokenizer

    /// The longest input in tokens, special tokens included: the tokenizer's `model_max_length` capped by the
    /// model's positions.
    public var maxLength: Int { min(tokenizer.modelMaxLength, config.usablePositions) }

    /// A model from its parts, checked to belong together.
    ///
    /// - Throws: `QuiverError(.incompatible)` when the tokenizer's vocabulary is larger than the model's word
    ///   embedding table.
    public init(name: String, encoder: BertEncoder, tokenizer: any TextTokenizer) throws {
        guard tokenizer.idCount <= encoder.config.vocabSize else {
            throw QuiverError(
                .incompatible,
                "\(name): the tokenizer has \(tokenizer.idCount) tokens but the model only "
                    + "\(encoder.config.vocabSize) word embeddings")
        }
        self.name = name
        self.config = encoder.config
        self.encoder = encoder
        self.tokenizer = tokenizer
    }

    /// A model from a Hugging Face folder on disk; the weights file is memory-mapped while it is converted.
    ///
    /// - Throws: `QuiverError` naming the file at fault.
    public init(folder path: String, name: String? = nil) throws {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw QuiverError(.invalidInput, "\(path): not a folder")
        }
        let configPath = url.appendingPathComponent("config.json").path
        let weightsPath = url.appendingPathComponent("model.safetensors").path
        guard FileManager.default.fileExists(atPath: configPath) else {
            throw QuiverError(.invalidInput, "\(path): missing config.json (expected a Hugging Face model folder)")
        }
        guard FileManager.default.fileExists(atPath: weightsPath) else {
            throw QuiverError(.invalidInput, "\(path): missing model.safetensors")
        }
        let config = try BertConfig.load(path: configPath)
        let weights = try Self.converting { try SafetensorsFile(path: weightsPath) }
        let encoder = try Self.encoder(config: config, weights: weights, source: configPath)
        let tokenizer = try Self.converting { try Tokenizers.load(folder: url) }
        try self.init(name: name ?? url.standardizedFileURL.lastPathComponent, encoder: encoder, tokenizer: tokenizer)
    }

    /// A model from a folder's files held in memory, by file name (`config.json`, `model.safetensors` and the
    /// tokenizer files). `source` names the files in errors.
    public init(name: String, files: [String: [UInt8]], source: String) throws {
        guard let configBytes = files["config.json"] else {
            throw QuiverError(.invalidInput, "\(source): missing config.json")
        }
        guard let weightsBytes = files["model.safetensors"] else {
            throw QuiverError(.invalidInput, "\(source): missing model.safetensors")
        }
        let config = try Self.converting {
            try BertConfig(json: JSONParser.parse(configBytes), source: source + "/config.json")
        }
        let weights = try Self.converting {
            try SafetensorsFile(bytes: weightsBytes, source: source + "/model.safetensors")
        }
        let encoder = try Self.encoder(config: config, weights: weights, source: source + "/config.json")
        let tokenizer = try Self.converting { try Tokenizers.load(files: files, source: source) }
        try self.init(name: name, encoder: encoder, tokenizer: tokenizer)
    }


    /// The encoder of `weights`; `source` names config.json in errors about its settings.
    private static func encoder(config: BertConfig, weights: SafetensorsFile, source: String) throws -> BertEncoder {
        let converted = try converting { try BertEncoderWeights(safetensors: weights, config: config) }
        do {
            return try BertEncoder(config: config, weights: converted)
        } catch {
            if case .unsupportedActivation = error { throw QuiverError(.unsupported, "\(source): \(error)") }
            throw QuiverError(.invalidInput, "\(source): \(error)")
        }
    }

    /// Runs `body`, turning the errors of the tokenizer and the safetensors reader into `QuiverError`s.
    static func converting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as QuiverError {
            throw error
        } catch let error as TokenizerError {
            if case .unsupported = error { throw QuiverError(.unsupported, error.description) }
            throw QuiverError(.invalidInput, error.description)
        } catch let error as SafetensorsError {
            throw QuiverError(.invalidInput, "invalid safetensors file \(error.description)")
        } catch let error as JSONParseError {
            throw QuiverError(.invalidInput, "invalid JSON: \(error)")
        }
    }
}
