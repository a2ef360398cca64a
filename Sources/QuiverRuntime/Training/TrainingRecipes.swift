import QuiverModel


/// What `quiver train` can create: a bottleneck adapter (`seq_bn`: after the feed-forward block;
/// `double_seq_bn`: after attention and after the feed-forward block) or LoRA on the query and value
/// projections, each with a new classification head.
public struct AdapterRecipe: Sendable, Equatable {
    public enum Architecture: String, Sendable, CaseIterable {
        case seqBn = "seq_bn"
        case doubleSeqBn = "double_seq_bn"
        case lora
    }

    public var architecture: Architecture
    /// Bottleneck adapters: hidden size / bottleneck size (the `adapters` presets' default is 16).
    public var reductionFactor: Int
    /// LoRA: the rank r and alpha (scaling alpha / r); the `adapters` LoRAConfig defaults are r 8, alpha 8.
    public var rank: Int
    public var alpha: Double

    public init(architecture: Architecture, reductionFactor: Int? = nil, rank: Int? = nil, alpha: Double? = nil) {
        self.architecture = architecture
        self.reductionFactor = reductionFactor ?? 16
        self.rank = rank ?? 8
        self.alpha = alpha ?? 8
    }

    public init(parsing name: String, reductionFactor: Int? = nil, rank: Int? = nil, alpha: Double? = nil) throws {
        guard let architecture = Architecture(rawValue: name) else {
            throw QuiverError(
                .invalidInput,
                "unknown architecture '\(name)': choose \(Architecture.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if architecture == .lora, reductionFactor != nil {
            throw QuiverError(.invalidInput, "--reduction-factor is for bottleneck adapters, not lora (use --rank and --alpha)")
        }
        if architecture != .lora, rank != nil || alpha != nil {
            throw QuiverError(.invalidInput, "--rank and --alpha are for lora, not \(name) (use --reduction-factor)")
        }
        self.init(architecture: architecture, reductionFactor: reductionFactor, rank: rank, alpha: alpha)
    }

    /// - Throws: `QuiverError(.invalidInput)` when the sizes do not fit a base of `hiddenSize`.
    public func validate(hiddenSize: Int, baseName: String) throws {
        switch architecture {
        case .seqBn, .doubleSeqBn:
            guard reductionFactor >= 1, reductionFactor <= hiddenSize, hiddenSize % reductionFactor == 0 else {
                throw QuiverError(.invalidInput, "reduction factor \(reductionFactor) must divide the hidden size \(hiddenSize) of base model '\(baseName)'")
            }
        case .lora:
            guard rank >= 1, rank <= hiddenSize else {
                throw QuiverError(.invalidInput, "LoRA rank \(rank) must be between 1 and the hidden size \(hiddenSize) of base model '\(baseName)'")
            }
            guard alpha > 0, alpha.isFinite else { throw QuiverError(.invalidInput, "LoRA alpha must be positive (got \(alpha))") }
        }
    }
}

/// How `quiver fuse --train` builds an AdapterFusion: the `adapters` library's `dynamic` preset (query, key and
/// value) or `static` (query and key, no value matrix); members frozen unless `unfreezeMembers`.
public struct FusionRecipe: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case dynamic
        case `static`
    }

    public var kind: Kind
    public var unfreezeMembers: Bool

    public init(kind: Kind = .dynamic, unfreezeMembers: Bool = false) {
        self.kind = kind
        self.unfreezeMembers = unfreezeMembers
    }

    public init(parsing name: String, unfreezeMembers: Bool = false) throws {
        guard let kind = Kind(rawValue: name) else {
            throw QuiverError(.invalidInput, "unknown fusion '\(name)': choose dynamic or static")
        }
        self.init(kind: kind, unfreezeMembers: unfreezeMembers)
    }
}

/// The data files of a run: training examples, and optionally evaluation examples scored after each epoch.
public struct TrainingDataFiles: Sendable, Equatable {
    public var train: String
    public var dev: String?

    public init(train: String, dev: String? = nil) {
        self.train = train
        self.dev = dev
    }
}
