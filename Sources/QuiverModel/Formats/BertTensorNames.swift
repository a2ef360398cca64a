import QuiverTensor

/// The parameters of a BERT-family encoder, with BERT's checkpoint names (`EncoderFamily.name(of:)` gives each
/// family's).
///
/// Names may carry the family's prefix (`bert.`, `roberta.`, `distilbert.`: checkpoints of the task classes).
/// Tensors of pre-training heads (`cls.…`, `lm_head.…`, `vocab_…`) and the `position_ids` buffer are known and
/// ignored; anything else unknown, a missing tensor or a wrong shape is an error.
public enum BertParameter: Hashable, Sendable {
    case wordEmbeddings, positionEmbeddings, tokenTypeEmbeddings, embeddingNormWeight, embeddingNormBias
    case layer(Int, LayerParameter)
    case poolerWeight, poolerBias

    public enum LayerParameter: String, CaseIterable, Sendable {
        case queryWeight = "attention.self.query.weight"
        case queryBias = "attention.self.query.bias"
        case keyWeight = "attention.self.key.weight"
        case keyBias = "attention.self.key.bias"
        case valueWeight = "attention.self.value.weight"
        case valueBias = "attention.self.value.bias"
        case attentionOutputWeight = "attention.output.dense.weight"
        case attentionOutputBias = "attention.output.dense.bias"
        case attentionNormWeight = "attention.output.LayerNorm.weight"
        case attentionNormBias = "attention.output.LayerNorm.bias"
        case intermediateWeight = "intermediate.dense.weight"
        case intermediateBias = "intermediate.dense.bias"
        case outputWeight = "output.dense.weight"
        case outputBias = "output.dense.bias"
        case outputNormWeight = "output.LayerNorm.weight"
        case outputNormBias = "output.LayerNorm.bias"
    }

    /// BERT's checkpoint name (without the optional `bert.` prefix).
    var bertName: String {
        switch self {
        case .wordEmbeddings: "embeddings.word_embeddings.weight"
        case .positionEmbeddings: "embeddings.position_embeddings.weight"
        case .tokenTypeEmbeddings: "embeddings.token_type_embeddings.weight"
        case .embeddingNormWeight: "embeddings.LayerNorm.weight"
        case .embeddingNormBias: "embeddings.LayerNorm.bias"
        case .layer(let index, let parameter): "encoder.layer.\(index).\(parameter.rawValue)"
        case .poolerWeight: "pooler.dense.weight"
        case .poolerBias: "pooler.dense.bias"
        }
    }

    /// The shape the checkpoint's tensor must have under `config`.
    func checkpointShape(_ config: BertConfig) -> [Int] {
        self == .positionEmbeddings ? [config.maxPositions, config.hiddenSize] : shape(config)
    }

    /// The shape the engine's tensor has under `config` (positions from the first one real tokens use).
    public func shape(_ config: BertConfig) -> [Int] {
        let h = config.hiddenSize, i = config.intermediateSize
        switch self {
        case .wordEmbeddings: return [config.vocabSize, h]
        case .positionEmbeddings: return [config.usablePositions, h]
        case .tokenTypeEmbeddings: return [config.typeVocabSize, h]
        case .embeddingNormWeight, .embeddingNormBias, .poolerBias: return [h]
        case .poolerWeight: return [h, h]
        case .layer(_, let parameter):
            switch parameter {
            case .queryWeight, .keyWeight, .valueWeight, .attentionOutputWeight: return [h, h]
            case .intermediateWeight: return [i, h]
            case .intermediateBias: return [i]
            case .outputWeight: return [h, i]
            default: return [h]
            }
        }
    }

    public var isOptional: Bool { self == .poolerWeight || self == .poolerBias }

    /// Every parameter of a model with `config`.
    public static func all(_ config: BertConfig) -> [BertParameter] {
        var parameters: [BertParameter] = [.wordEmbeddings, .positionEmbeddings, .tokenTypeEmbeddings, .embeddingNormWeight, .embeddingNormBias]
        for layer in 0..<config.layerCount {
            parameters += LayerParameter.allCases.map { .layer(layer, $0) }
        }
        return parameters + [.poolerWeight, .poolerBias]
    }

    static func isIgnorable(_ name: String) -> Bool {
        name.hasSuffix("embeddings.position_ids") || name.hasSuffix("embeddings.token_type_ids") || name.hasPrefix("cls.")
            || name.hasPrefix("lm_head.") || name.hasPrefix("vocab_transform.") || name.hasPrefix("vocab_layer_norm.")
            || name.hasPrefix("vocab_projector.")
    }
}

/// The result of matching a checkpoint's tensor names against the table.
public struct BertWeightMap: Sendable {
    /// The checkpoint's tensor name for each parameter present.
    public var names: [BertParameter: String]
    /// Names known and deliberately ignored.
    public var ignored: [String]

    /// Matches `header`'s tensors to the table, strictly.
    public init(header: SafetensorsHeader, config: BertConfig, source: String) throws {
        let available = Dictionary(header.tensors.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let family = config.family
        let prefix = available.keys.contains { $0.hasPrefix(family.checkpointPrefix) } ? family.checkpointPrefix : ""
        var names: [BertParameter: String] = [:]
        var used = Set<String>()
        for parameter in BertParameter.all(config) {
            guard let local = family.name(of: parameter) else { continue }
            let name = prefix + local
            guard let info = available[name] else {
                if parameter.isOptional { continue }
                throw QuiverError(.invalidInput, "\(source): missing tensor '\(name)' for a \(config.layerCount)-layer model")
            }
            let expected = parameter.checkpointShape(config)
            guard info.shape == expected else {
                throw QuiverError(.invalidInput, "\(source): tensor '\(name)' has shape \(info.shape), config.json implies \(expected)")
            }
            guard [.f32, .f16, .bf16].contains(info.dtype) else {
                throw QuiverError(.unsupported, "\(source): tensor '\(name)' has dtype \(info.dtype.rawValue); expected F32, F16 or BF16")
            }
            names[parameter] = name
            used.insert(name)
        }
        var ignored: [String] = []
        for name in available.keys.sorted() where !used.contains(name) {
            let bare = name.hasPrefix(prefix) ? String(name.dropFirst(prefix.count)) : name
            guard BertParameter.isIgnorable(bare) || BertParameter.isIgnorable(name) else {
                throw QuiverError(.invalidInput, "\(source): unexpected tensor '\(name)' (not part of a \(config.layerCount)-layer \(config.modelType) model)")
            }
            ignored.append(name)
        }
        self.names = names
        self.ignored = ignored
    }
}
