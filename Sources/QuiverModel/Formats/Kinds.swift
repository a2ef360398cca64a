// The closed sets a registry sorts its content by. Each is stored (catalog, manifests, `quiver.json`) as its raw
// string, so a value written by one version of Quiver reads back in the next.

/// What a stored version is.
public enum ArtifactKind: String, Codable, Sendable, CaseIterable {
    /// One adapter (any method), with or without a prediction head.
    case adapter
    /// An AdapterFusion over member adapters.
    case fusion
}

/// The library layout a version's files follow.
public enum ArtifactFormat: String, Codable, Sendable, CaseIterable {
    /// AdapterHub's `adapters` library: `adapter_config.json` with an inner `config`, `adapter.safetensors` or
    /// `pytorch_adapter.bin`, optional head files.
    case adapters
    /// Hugging Face PEFT: `adapter_config.json` with `peft_type`, `adapter_model.safetensors` or `adapter_model.bin`.
    case peft
}

/// What a file of a base model or a version is for.
public enum FileRole: String, Codable, Sendable, CaseIterable {
    /// A base model's `config.json`.
    case config
    /// A base model's weights (one file, or one shard).
    case weights
    /// A sharded checkpoint's index (`model.safetensors.index.json`).
    case weightsIndex
    /// `vocab.txt`, `tokenizer.json`, `vocab.json`, `merges.txt`, a SentencePiece model…
    case vocabulary
    /// `tokenizer_config.json`, `special_tokens_map.json`…
    case tokenizerConfig
    case adapterConfig
    case adapterWeights
    case fusionConfig
    case fusionWeights
    case headConfig
    case headWeights
}

/// The method of an adapter or fusion version (its manifest's `architecture`).
///
/// The cases are every method the `adapters` library and PEFT save; `other` keeps a PEFT type this build does not
/// know, stored and distributed with exact counts but never run.
public enum AdapterKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    // Bottleneck adapters (`adapters`' BnConfig and its presets).
    /// After the feed-forward block (Pfeiffer).
    case seqBn
    /// After the attention and the feed-forward blocks (Houlsby).
    case doubleSeqBn
    /// Beside the feed-forward block (parallel adapter).
    case parBn
    /// Any other placement of bottleneck adapters.
    case bottleneck
    /// Bottleneck adapters with PHM layers (Compacter, Compacter++).
    case compacter
    // Low-rank and scaling methods.
    case lora
    case ia3
    case loha
    case lokr
    case adalora
    case vera
    case oft
    case boft
    case fourierft
    case hra
    case bone
    /// PEFT's successor of Bone.
    case miss
    case lnTuning
    case vblora
    // Methods that add tokens or states.
    case prefixTuning
    case promptTuning
    case pTuning
    case multitaskPromptTuning
    case adaptionPrompt
    /// ReFT interventions (`adapters`' LoReft, NoReft, DiReft).
    case reft
    /// Several methods in one adapter (`adapters`' ConfigUnion: MAM, UniPELT…).
    case union
    // Fusions.
    case fusionDynamic
    case fusionStatic
    /// A fusion with another combination of flags.
    case fusion
    /// A PEFT type this build does not know (its `peft_type`, lower-cased).
    case other(String)

    private static let known: [AdapterKind] = [
        .seqBn, .doubleSeqBn, .parBn, .bottleneck, .compacter, .lora, .ia3, .loha, .lokr, .adalora, .vera, .oft, .boft, .fourierft,
        .hra, .bone, .miss, .lnTuning, .vblora, .prefixTuning, .promptTuning, .pTuning, .multitaskPromptTuning, .adaptionPrompt, .reft,
        .union, .fusionDynamic, .fusionStatic, .fusion,
    ]
    private static let byName = Dictionary(uniqueKeysWithValues: known.map { ($0.rawValue, $0) })

    public init(rawValue: String) {
        self = Self.byName[rawValue] ?? .other(rawValue)
    }

    /// The name stored in manifests and the catalog (`seq_bn`, `lora`, `prefix_tuning`…).
    public var rawValue: String {
        switch self {
        case .seqBn: "seq_bn"
        case .doubleSeqBn: "double_seq_bn"
        case .parBn: "par_bn"
        case .bottleneck: "bottleneck"
        case .compacter: "compacter"
        case .lora: "lora"
        case .ia3: "ia3"
        case .loha: "loha"
        case .lokr: "lokr"
        case .adalora: "adalora"
        case .vera: "vera"
        case .oft: "oft"
        case .boft: "boft"
        case .fourierft: "fourierft"
        case .hra: "hra"
        case .bone: "bone"
        case .miss: "miss"
        case .lnTuning: "ln_tuning"
        case .vblora: "vblora"
        case .prefixTuning: "prefix_tuning"
        case .promptTuning: "prompt_tuning"
        case .pTuning: "p_tuning"
        case .multitaskPromptTuning: "multitask_prompt_tuning"
        case .adaptionPrompt: "adaption_prompt"
        case .reft: "reft"
        case .union: "union"
        case .fusionDynamic: "dynamic"
        case .fusionStatic: "static"
        case .fusion: "fusion"
        case .other(let name): name
        }
    }

    public var description: String { rawValue }

    /// Bottleneck adapters a fusion can fuse.
    public var isFusable: Bool { [.seqBn, .doubleSeqBn, .bottleneck].contains(self) }
}

extension AdapterKind: Codable {
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}
