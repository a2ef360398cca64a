import QuiverTensor

/// The family of a base model, from `model_type`: what decides whether this build's engine can run it.
public enum BaseArchitecture: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    case bert
    case roberta
    case xlmRoberta
    case distilbert
    case llama
    case qwen2
    case qwen3
    case mistral
    case gemma
    case gpt2
    case t5
    /// Any other `model_type`: stored, listed and distributed, not run.
    case other(String)

    private static let known: [BaseArchitecture] = [.bert, .roberta, .xlmRoberta, .distilbert, .llama, .qwen2, .qwen3, .mistral, .gemma, .gpt2, .t5]
    private static let byName = Dictionary(uniqueKeysWithValues: known.map { ($0.rawValue, $0) })

    public init(rawValue: String) {
        self = Self.byName[rawValue] ?? .other(rawValue)
    }

    /// The `model_type` of config.json.
    public var rawValue: String {
        switch self {
        case .bert: "bert"
        case .roberta: "roberta"
        case .xlmRoberta: "xlm-roberta"
        case .distilbert: "distilbert"
        case .llama: "llama"
        case .qwen2: "qwen2"
        case .qwen3: "qwen3"
        case .mistral: "mistral"
        case .gemma: "gemma"
        case .gpt2: "gpt2"
        case .t5: "t5"
        case .other(let name): name
        }
    }

    public var description: String { rawValue }

    /// The families this build's encoder runs.
    public static let engineFamilies: [BaseArchitecture] = [.bert, .roberta, .xlmRoberta, .distilbert]

    /// Nil when this build's engine runs the family, else why not, in one line.
    public var engineNote: String? {
        Self.engineFamilies.contains(self)
            ? nil : "\(rawValue): stored and distributed; this build's engine runs \(Self.engineFamilies.map(\.rawValue).joined(separator: ", "))"
    }
}

/// What Quiver records of any Hugging Face `config.json`: the family and the sizes every transformer states,
/// under whichever names its family uses (`hidden_size`/`d_model`/`n_embd`/`dim`…). A size a config does not
/// state is 0.
public struct ModelConfig: Sendable, Equatable {
    public var architecture: BaseArchitecture
    /// `architectures`: the model classes the checkpoint was saved from (`LlamaForCausalLM`…).
    public var architectures: [String]
    public var hiddenSize: Int
    public var layerCount: Int
    public var headCount: Int
    public var intermediateSize: Int
    public var vocabSize: Int
    public var maxPositions: Int

    /// The largest size accepted for any of these numbers: well above any real model, far below overflow.
    static let maximumSize = 1 << 32

    public var modelType: String { architecture.rawValue }

    public init(json: JSONValue, source: String) throws {
        guard json.objectValue != nil else { throw QuiverError(.invalidInput, "\(source): not a JSON object") }
        guard let type = json["model_type"]?.stringValue, !type.isEmpty else {
            throw QuiverError(.invalidInput, "\(source): missing \"model_type\" (not a Hugging Face transformers config)")
        }
        // Composite models (vision-language…) keep the language model's sizes in `text_config`.
        let sizes = json["hidden_size"] == nil && json["text_config"]?.objectValue != nil ? json["text_config"]! : json
        func size(_ keys: [String]) throws -> Int? {
            for key in keys {
                guard let field = sizes[key], !field.isNull else { continue }
                guard let number = field.intValue, number >= 0, number <= Self.maximumSize else {
                    throw QuiverError(.invalidInput, "\(source): \"\(key)\" must be an integer in 0…\(Self.maximumSize)")
                }
                return number
            }
            return nil
        }
        architecture = BaseArchitecture(rawValue: type)
        if let field = json["architectures"], !field.isNull {
            guard let names = field.arrayValue?.compactMap(\.stringValue), names.count == field.arrayValue?.count else {
                throw QuiverError(.invalidInput, "\(source): \"architectures\" must be a list of class names")
            }
            architectures = names
        } else {
            architectures = []
        }
        hiddenSize = try size(["hidden_size", "d_model", "n_embd", "dim"]) ?? 0
        layerCount = try size(["num_hidden_layers", "n_layer", "num_layers", "n_layers"]) ?? 0
        headCount = try size(["num_attention_heads", "n_head", "num_heads", "n_heads"]) ?? 0
        // GPT-2 writes `n_inner: null` for 4 × n_embd.
        intermediateSize = try size(["intermediate_size", "d_ff", "n_inner", "hidden_dim", "ffn_dim"]) ?? (type == "gpt2" ? 4 * hiddenSize : 0)
        vocabSize = try size(["vocab_size"]) ?? 0
        maxPositions = try size(["max_position_embeddings", "n_positions", "max_seq_len"]) ?? 0
    }
}
