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
            case .queryWeight: "attention.q_lin.weight"
            case .queryBias: "attention.q_lin.bias"
            case .keyWeight: "attention.k_lin.weight"
            case .keyBias: "attention.k_lin.bias"
            case .valueWeight: "attention.v_lin.weight"
            case .valueBias: "attention.v_lin.bias"
            case .attentionOutputWeight: "attention.out_lin.weight"
            case .attentionOutputBias: "attention.out_lin.bias"
            case .attentionNormWeight: "sa_layer_norm.weight"
            case .attentionNormBias: "sa_layer_norm.bias"
            case .intermediateWeight: "ffn.lin1.weight"
            case .intermediateBias: "ffn.lin1.bias"
            case .outputWeight: "ffn.lin2.weight"
            case .outputBias: "ffn.lin2.bias"
            case .outputNormWeight: "output_layer_norm.weight"
            case .outputNormBias: "output_layer_norm.bias"
            }
            return "transformer.layer.\(index).\(local)"
        }
    }
}
