import QuiverModel
import Foundation

/// What a trained adapter or fusion records about its training, under `"training"` in the version's
/// metadata (`quiver show` prints it): the recipe, the hyper-parameters, the base model and data files by
/// digest, every epoch's figures and the epoch whose weights were kept.
public struct TrainingMetadata: Sendable, Equatable, Codable {
    public struct Hyperparameters: Sendable, Equatable, Codable {
        public var epochs: Int
        public var learningRate: Double
        public var batchSize: Int
        public var maxLength: Int
        public var seed: UInt64
        public var weightDecay: Double
        public var warmupRatio: Double
        public var maxGradNorm: Double
        public var optimizer = "adamw"
        public var schedule = "linear"
        public var dropout: Bool

        enum CodingKeys: String, CodingKey {
            case epochs
            case learningRate = "learning_rate"
            case batchSize = "batch_size"
            case maxLength = "max_length"
            case seed
            case weightDecay = "weight_decay"
            case warmupRatio = "warmup_ratio"
            case maxGradNorm = "max_grad_norm"
            case optimizer, schedule, dropout
        }

        public init(_ options: TrainingOptions) {
            epochs = options.epochs
            learningRate = Double(options.learningRate)
            batchSize = options.batchSize
            maxLength = options.maxLength
            seed = options.seed
            weightDecay = Double(options.weightDecay)
            warmupRatio = options.warmupRatio
            maxGradNorm = options.maxGradientNorm
            dropout = options.dropout
        }
    }

    public struct DataFile: Sendable, Equatable, Codable {
        /// The file's name (without its folder).
        public var file: String
        /// `sha256:<hex>` of the file's bytes.
        public var digest: String
        public var examples: Int
    }

    public struct Base: Sendable, Equatable, Codable {
        public var name: String
        public var digest: String
    }

    public var kind: ArtifactKind
    /// `seq_bn`, `double_seq_bn`, `lora`, or the fusion kind `dynamic`/`static`.
    public var architecture: AdapterKind
    public var reductionFactor: Int?
    public var rank: Int?
    public var alpha: Double?
    /// Fusion: the members as `TASK:VERSION`, and whether they were trained too.
    public var members: [String]?
    public var unfreezeAdapters: Bool?
    public var hyperparameters: Hyperparameters
    public var base: Base
    public var train: DataFile
    public var dev: DataFile?
    public var labels: [String]
    public var epochs: [EpochRecord]
    public var bestEpoch: Int
    public var steps: Int

    enum CodingKeys: String, CodingKey {
        case kind, architecture
        case reductionFactor = "reduction_factor"
        case rank, alpha, members
        case unfreezeAdapters = "unfreeze_adapters"
        case hyperparameters, base, train, dev, labels, epochs
        case bestEpoch = "best_epoch"
        case steps
    }

    /// `{"training": {...}}` with sorted keys: the metadata text stored with the version.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(["training": self]), as: UTF8.self)
    }

    /// The training record in a version's metadata text, or nil when it has none.
    public static func decode(fromMetadata text: String) -> TrainingMetadata? {
        try? JSONDecoder().decode(Envelope.self, from: Data(text.utf8)).training
    }

    private struct Envelope: Decodable { var training: TrainingMetadata? }
}
