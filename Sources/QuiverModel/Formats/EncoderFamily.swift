/// The BERT-family encoders: one implementation (`BertEncoder`), their differences in this table — the names of
/// config.json's fields and of the checkpoint's tensors, where positions start, whether token types exist.
public enum EncoderFamily: String, Sendable, Codable, CaseIterable {
    case bert
    /// RoBERTa: BERT's layout under `roberta.`; positions start after the padding index.
    case roberta
    /// XLM-RoBERTa: RoBERTa's layout and positions (its tokenizer differs).
    case xlmRoberta = "xlm-roberta"
    /// DistilBERT: its own names (`transformer.layer.N.attention.q_lin`, `sa_layer_norm`, `ffn.lin1`…), no token
    /// types, no pooler.
    case distilbert

    public init?(_ architecture: BaseArchitecture) {
        switch architecture {
        case .bert: self = .bert
        case .roberta: self = .roberta
        case .xlmRoberta: self = .xlmRoberta
        case .distilbert: self = .distilbert
        default: return nil
        }
    }

    /// The prefix the task classes (`…ForSequenceClassification`) save the encoder under.
    var checkpointPrefix: String {
        switch self {
        case .bert: "bert."
        case .roberta, .xlmRoberta: "roberta."
        case .distilbert: "distilbert."
        }
    }

    /// The `adapters` library's model class with heads for the family (`model_class` of its configs).
    var adapterModelClass: String {
        switch self {
        case .bert: "BertAdapterModel"
        case .roberta: "RobertaAdapterModel"
        case .xlmRoberta: "XLMRobertaAdapterModel"
        case .distilbert: "DistilBertAdapterModel"
        }
    }

    /// RoBERTa numbers the positions of real tokens from `padding_idx + 1` (transformers'
    /// `create_position_ids_from_input_ids`); the rows below are never used for them.
    var positionsFollowPadding: Bool { self == .roberta || self == .xlmRoberta }

    /// DistilBERT has no token type embeddings: it ignores type ids.
    var hasTokenTypes: Bool { self != .distilbert }

    /// Names of config.json's fields, where the family departs from BERT's.
    struct ConfigKeys {
        var hiddenSize = "hidden_size", layerCount = "num_hidden_layers", headCount = "num_attention_heads"
        var intermediateSize = "intermediate_size", activation = "hidden_act"
        var hiddenDropout = "hidden_dropout_prob", attentionDropout = "attention_probs_dropout_prob"
        var classifierDropout = "classifier_dropout"
    }

    var configKeys: ConfigKeys {
        switch self {
        case .bert, .roberta, .xlmRoberta:
            ConfigKeys()
        case .distilbert:
            ConfigKeys(
                hiddenSize: "dim", layerCount: "n_layers", headCount: "n_heads", intermediateSize: "hidden_dim", activation: "activation",
                hiddenDropout: "dropout", attentionDropout: "attention_dropout", classifierDropout: "seq_classif_dropout")
        }
    }

    /// The checkpoint name of a parameter (without the task classes' prefix); nil when the family has no such tensor.
    func name(of parameter: BertParameter) -> String? {
        guard self == .distilbert else { return parameter.bertName }
        switch parameter {
        case .wordEmbeddings, .positionEmbeddings, .embeddingNormWeight, .embeddingNormBias: return parameter.bertName
        case .tokenTypeEmbeddings, .poolerWeight, .poolerBias: return nil
        case .layer(let index, let name):
            let local: String = switch name {
            case .queryWeight, .queryBias: projectionModule(.query)
            case .keyWeight, .keyBias: projectionModule(.key)
            case .valueWeight, .valueBias: projectionModule(.value)
            case .attentionOutputWeight, .attentionOutputBias: projectionModule(.attentionOutput)
            case .attentionNormWeight, .attentionNormBias: "sa_layer_norm"
            case .intermediateWeight, .intermediateBias: projectionModule(.intermediate)
            case .outputWeight, .outputBias: projectionModule(.output)
            case .outputNormWeight, .outputNormBias: "output_layer_norm"
            }
            return "\(layerContainer).\(index).\(local).\(name.rawValue.hasSuffix(".weight") ? "weight" : "bias")"
        }
    }
}

// MARK: - Where adapters attach

extension EncoderFamily {
    // Two spellings of a layer's places exist: BERT's (RoBERTa's and XLM-R's too) and DistilBERT's.

    /// The module list of the layers: `encoder.layer` (layer 3 is `encoder.layer.3`) or `transformer.layer`.
    var layerContainer: String { self == .distilbert ? "transformer.layer" : "encoder.layer" }

    /// The module the `adapters` library hangs bottleneck adapters and fusion layers on at `location`.
    func adapterModule(_ location: AdapterTensor.BottleneckLocation) -> String {
        guard self == .distilbert else { return location.rawValue }
        return location == .attentionOutput ? "attention_adapters" : "output_adapters"
    }

    /// The Linear of a projection, within its layer.
    func projectionModule(_ target: AdapterTensor.LoRATarget) -> String {
        guard self == .distilbert else { return target.rawValue }
        return switch target {
        case .query: "attention.q_lin"
        case .key: "attention.k_lin"
        case .value: "attention.v_lin"
        case .attentionOutput: "attention.out_lin"
        case .intermediate: "ffn.lin1"
        case .output: "ffn.lin2"
        }
    }

    /// Compiled once (a regex literal is parsed again each time it is evaluated).
    nonisolated(unsafe) private static let layerPattern = /(?:^|\.)(encoder|transformer)\.layer\.(\d{1,9})\./

    /// The layer a tensor or module name is in, any family's spelling, and the rest of the name after it
    /// (`roberta.encoder.layer.3.output.…` → 3, the family spelling it, `output.…`).
    static func layer(of name: Substring) -> (index: Int, spelling: EncoderFamily, tail: Substring)? {
        guard let match = name.firstMatch(of: layerPattern), let index = Int(match.2) else { return nil }
        return (index, match.1 == "transformer" ? .distilbert : .bert, name[match.range.upperBound...])
    }
}
