import QuiverTensor

/// The fields of a Hugging Face `config.json` that a BERT-family encoder needs (BERT, RoBERTa, XLM-R, DistilBERT:
/// `EncoderFamily` names each one's fields).
public struct BertConfig: Sendable, Equatable, Codable {
    public var modelType: String
    public var family: EncoderFamily
    public var vocabSize: Int
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    /// `max_position_embeddings`: the rows of the checkpoint's position table.
    public var maxPositions: Int
    /// The first row real tokens use: `pad_token_id + 1` for RoBERTa and XLM-R, else 0.
    public var positionOffset: Int
    /// The longest sequence, special tokens included: `maxPositions - positionOffset`.
    public var usablePositions: Int { maxPositions - positionOffset }
    /// Rows of the token type table (2 for DistilBERT, whose table the engine fills with zeros: it has none).
    public var typeVocabSize: Int
    public var layerNormEps: Double
    public var hiddenAct: String
    public var padTokenId: Int
    /// `hidden_dropout_prob`: dropout on the embeddings' output and after each sublayer's dense projection, in
    /// training (default 0.1, as `transformers`' `BertConfig`).
    public var hiddenDropoutProb: Double
    /// `attention_probs_dropout_prob`: dropout on the attention probabilities, in training (default 0.1).
    public var attentionProbsDropoutProb: Double
    /// `classifier_dropout`: the dropout of a classification head that does not set its own; nil when absent or
    /// null (then heads use `hidden_dropout_prob`).
    public var classifierDropout: Double?
    /// `initializer_range`: the standard deviation new weights are drawn with (`transformers`' `_init_weights`,
    /// which the `adapters` library's heads use); default 0.02.
    public var initializerRange: Double

    public init(json: JSONValue, source: String) throws {
        func integer(_ key: String, default value: Int? = nil) throws -> Int {
            guard let field = json[key], !field.isNull else {
                if let value { return value }
                throw QuiverError(.invalidInput, "\(source): missing \"\(key)\"")
            }
            guard let number = field.intValue, number > 0 || (key == "pad_token_id" && number >= 0) else {
                throw QuiverError(.invalidInput, "\(source): \"\(key)\" must be a positive integer")
            }
            return number
        }
        guard json.objectValue != nil else { throw QuiverError(.invalidInput, "\(source): not a JSON object") }
        guard let type = json["model_type"]?.stringValue else {
            throw QuiverError(.invalidInput, "\(source): missing \"model_type\"")
        }
        guard let family = EncoderFamily(BaseArchitecture(rawValue: type)) else {
            let supported = EncoderFamily.allCases.map(\.rawValue).joined(separator: ", ")
            throw QuiverError(.unsupported, "\(source): model_type \"\(type)\" is not supported (supported: \(supported))")
        }
        let keys = family.configKeys
        modelType = type
        self.family = family
        vocabSize = try integer("vocab_size")
        hiddenSize = try integer(keys.hiddenSize)
        layerCount = try integer(keys.layerCount)
        headCount = try integer(keys.headCount)
        intermediateSize = try integer(keys.intermediateSize)
        maxPositions = try integer("max_position_embeddings", default: 512)
        typeVocabSize = family.hasTokenTypes ? try integer("type_vocab_size", default: 2) : 2
        padTokenId = try integer("pad_token_id", default: family.positionsFollowPadding ? 1 : 0)
        guard !family.positionsFollowPadding || padTokenId < maxPositions - 1 else {
            throw QuiverError(.invalidInput, "\(source): pad_token_id \(padTokenId) leaves none of the \(maxPositions) positions to real tokens")
        }
        positionOffset = family.positionsFollowPadding ? padTokenId + 1 : 0
        guard hiddenSize % headCount == 0 else {
            throw QuiverError(.invalidInput, "\(source): \(keys.hiddenSize) \(hiddenSize) is not a multiple of \(keys.headCount) \(headCount)")
        }
        if family == .distilbert {
            layerNormEps = 1e-12  // DistilBERT's LayerNorms are built with 1e-12, not from the config
        } else if let eps = json["layer_norm_eps"], !eps.isNull {
            guard let value = eps.doubleValue, value > 0 else {
                throw QuiverError(.invalidInput, "\(source): \"layer_norm_eps\" must be a positive number")
            }
            layerNormEps = value
        } else {
            layerNormEps = 1e-12
        }
        hiddenAct = json[keys.activation]?.stringValue ?? "gelu"
        func probability(_ key: String) throws -> Double? {
            guard let field = json[key], !field.isNull else { return nil }
            guard let value = field.doubleValue, value >= 0, value < 1 else {
                throw QuiverError(.invalidInput, "\(source): \"\(key)\" must be a number in [0, 1)")
            }
            return value
        }
        hiddenDropoutProb = try probability(keys.hiddenDropout) ?? 0.1
        attentionProbsDropoutProb = try probability(keys.attentionDropout) ?? 0.1
        classifierDropout = try probability(keys.classifierDropout)
        if let field = json["initializer_range"], !field.isNull {
            guard let value = field.doubleValue, value > 0, value.isFinite else {
                throw QuiverError(.invalidInput, "\(source): \"initializer_range\" must be a positive number")
            }
            initializerRange = value
        } else {
            initializerRange = 0.02
        }
        if let embedding = json["position_embedding_type"]?.stringValue, embedding != "absolute" {
            throw QuiverError(.unsupported, "\(source): position_embedding_type \"\(embedding)\" is not supported (only \"absolute\")")
        }
    }

    public static func load(path: String) throws -> BertConfig {
        let bytes = try FileSystem.read(path, limit: 1 << 20)
        do {
            return try BertConfig(json: JSONParser.parse(bytes), source: path)
        } catch let error as JSONParseError {
            throw QuiverError(.invalidInput, "\(path): invalid JSON: \(error)")
        } catch let error as QuiverError {
            throw error
        } catch {
            throw QuiverError(.invalidInput, "\(path): \(error)")
        }
    }

    /// Weights of one encoder layer, embeddings and pooler: the shape each tensor must have.
    public var headDimension: Int { hiddenSize / headCount }
}
