import QuiverTensor

/// The `adapters` library's prefix tuning (`PrefixTuningConfig`, `architecture: "prefix_tuning"`): `prefix_length`
/// key and value vectors put in front of every layer's self-attention keys and values (layers in `leave_out`
/// excepted). They are saved reparametrised — an embedding through a two-layer MLP (`flat` false, the default) — or
/// directly (`flat` true); the engine collapses the MLP once at load (`PrefixTuningAdapter`).
///
/// `encoder_prefix` and `cross_prefix` select the attentions of encoder-decoder models; BERT's self-attention prefix
/// (`self_prefix`) does not look at them, in the library as here.
public struct PrefixTuningConfig: Sendable, Equatable {
    /// P: the key/value positions added per layer.
    public var prefixLength: Int
    /// Whether the config says the prefix is stored directly; the tensors decide (a folder saved after the library's
    /// `eject_prefix_tuning` holds the flat tensor under `"flat": false`).
    public var flat: Bool
    /// The MLP's hidden width (informative: the tensors' shapes decide).
    public var bottleneckSize: Int?
    /// The MLP's activation between its two Linears.
    public var nonLinearity: Nonlinearity
    public var leaveOut: Set<Int>
    /// Dropout on the prefix in training; nothing at inference.
    public var dropout: Float

    /// Parses the inner `config` of an `adapters` adapter_config.json.
    ///
    /// Gated prefixes (`use_gating`, UniPELT) and activations this build lacks are `.unsupported` (a folder records
    /// them as its engine note); malformed fields are `.invalidInput`.
    public init(json config: JSONValue, source: String) throws {
        if let field = config["prefix_length"], !field.isNull {
            guard let value = field.intValue, (1...Self.maximumPrefixLength).contains(value) else {
                throw QuiverError(
                    .invalidInput, "\(source): \"prefix_length\" must be an integer in 1...\(Self.maximumPrefixLength)")
            }
            prefixLength = value
        } else {
            prefixLength = 30  // the library's default
        }
        if let field = config["flat"], !field.isNull {
            guard let value = field.boolValue else {
                throw QuiverError(.invalidInput, "\(source): \"flat\" must be true or false")
            }
            flat = value
        } else {
            flat = false
        }
        if let field = config["bottleneck_size"], !field.isNull {
            guard let value = field.intValue, value >= 1 else {
                throw QuiverError(.invalidInput, "\(source): \"bottleneck_size\" must be a positive integer")
            }
            bottleneckSize = value
        } else {
            bottleneckSize = nil
        }
        let activation = config["non_linearity"]?.stringValue ?? "tanh"
        guard let nonLinearity = Nonlinearity(configurationName: activation) else {
            throw QuiverError(
                .unsupported,
                "\(source): prefix tuning non_linearity \"\(activation)\" is not supported (relu, gelu, swish/silu, tanh, sigmoid)"
            )
        }
        self.nonLinearity = nonLinearity
        leaveOut = try parseLeaveOut(config, source: source)
        dropout = try parseProbability(config, "dropout", source: source) ?? 0
        if config["use_gating"]?.boolValue == true {
            throw QuiverError(.unsupported, "\(source): gated prefix tuning (use_gating) is not run by this build")
        }
    }

    /// The longest prefix accepted: the attention's score buffers grow with it, so a config is refused before a
    /// huge one is allocated (the paper's prefixes are 10 to 200 positions).
    public static let maximumPrefixLength = 4096
}
