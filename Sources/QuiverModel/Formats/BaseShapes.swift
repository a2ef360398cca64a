import QuiverTensor

/// What an adapter is checked against when it is pushed: the base's family and sizes, its BERT configuration when
/// it has one, and the shape of every tensor of its weights.
public struct BaseShapes: Sendable {
    public var config: ModelConfig
    public var bert: BertConfig?
    public var tensors: [String: [Int]]
    /// Nil when this build's engine runs the base, else why not.
    public var engineNote: String?

    public init(config: ModelConfig, bert: BertConfig?, tensors: [String: [Int]], engineNote: String?) {
        self.config = config
        self.bert = bert
        self.tensors = tensors
        self.engineNote = engineNote
    }

    public init(_ folder: ModelFolder) {
        self.init(config: folder.config, bert: folder.bert, tensors: folder.tensors.mapValues(\.shape), engineNote: folder.engineNote)
    }

    /// The shape of `module`'s weight (`bert.encoder.layer.0.attention.self.query` → `[768, 768]`), however the base
    /// names it: adapters name modules from the task model (`bert.…`, `model.…`), a base may be saved from the bare
    /// model (`encoder.…`, `layers.…`), so leading components are dropped from either side until the names meet.
    public func shape(ofModule module: String, parameter: String = "weight") -> [Int]? {
        var path = Substring(module)
        while true {
            if let shape = tensors[path + "." + parameter] { return shape }
            for prefix in Self.modelPrefixes where tensors[prefix + path + "." + parameter] != nil {
                return tensors[prefix + path + "." + parameter]
            }
            guard let dot = path.firstIndex(of: ".") else { return nil }
            path = path[path.index(after: dot)...]
        }
    }

    /// Whether the base has a module of that path: a layer with parameters, or a container of some (an attention
    /// block), named as `shape(ofModule:)` matches names.
    public func hasModule(_ module: String) -> Bool {
        var path = Substring(module)
        while true {
            for prefix in [""] + Self.modelPrefixes {
                let start = prefix + path + "."
                if tensors.keys.contains(where: { $0.hasPrefix(start) }) { return true }
            }
            guard let dot = path.firstIndex(of: ".") else { return false }
            path = path[path.index(after: dot)...]
        }
    }

    /// The prefixes task models put before a bare model's names.
    private static let modelPrefixes = ["model.", "bert.", "roberta.", "transformer.", "distilbert.", "encoder."]
}
