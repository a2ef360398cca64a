import QuiverTensor

/// The `adapters` library's classification head: the [CLS] vector through `layers` Linear layers
/// with the activation between them (dropout is off at inference).
public final class ClassificationHead: Sendable {
    public let config: HeadConfig
    /// In order; the last produces one logit per label.
    public let layers: [LinearWeights]

    public var labels: [String] { config.labels }

    public init(config: HeadConfig, weights file: SafetensorsFile, hiddenSize h: Int) throws {
        var byIndex: [Int: [String: String]] = [:]
        for tensor in file.header.tensors {
            guard case .head(_, let index, let parameter) = AdapterTensor.parse(tensor.name) else {
                throw QuiverError(.invalidInput, "\(file.source): tensor '\(tensor.name)' is not a head tensor")
            }
            byIndex[index, default: [:]][parameter] = tensor.name
        }
        let indices = byIndex.keys.sorted()
        guard indices.count == config.layers else {
            throw QuiverError(.invalidInput, "\(file.source): head_config.json says \(config.layers) layers, the weights hold \(indices.count)")
        }
        var layers: [LinearWeights] = []
        var inFeatures = h
        for (position, index) in indices.enumerated() {
            guard let weight = byIndex[index]!["weight"] else {
                throw QuiverError(.invalidInput, "\(file.source): head layer \(index) has no weight")
            }
            let outFeatures = position == indices.count - 1 ? config.labels.count : h
            let bias = try byIndex[index]!["bias"].map { try file.floatBuffer($0, shape: [outFeatures]) } ?? FloatBuffer(count: outFeatures)
            layers.append(LinearWeights(weight: try file.floatBuffer(weight, shape: [outFeatures, inFeatures]), bias: bias, inFeatures: inFeatures, outFeatures: outFeatures))
            inFeatures = outFeatures
        }
        self.config = config
        self.layers = layers
    }

    /// A PEFT sequence classifier (`task_type` SEQ_CLS; the task class's head saved whole via `modules_to_save`), as
    /// the same Linear layers with an activation between them as an `adapters` head, on the first token:
    /// - `BertForSequenceClassification`: the base's pooler (dense + tanh), or one saved beside the head, then
    ///   `classifier`;
    /// - `RobertaForSequenceClassification` (and XLM-R): `classifier.dense`, tanh, `classifier.out_proj`;
    /// - `DistilBertForSequenceClassification`: `pre_classifier`, ReLU, `classifier`.
    /// Labels are `LABEL_0…` (PEFT saves no label names).
    public init(peftClassifier file: SafetensorsFile, peft: PEFTConfig, pooler: LinearWeights?, hiddenSize h: Int) throws {
        let saved = file.header.tensors.filter { peft.isHead($0.name) }
        let layout: PEFTClassifierLayout
        switch PEFTClassifierLayout.read(saved, hiddenSize: h) {
        case .success(let found): layout = found
        case .failure(let problem): throw QuiverError(.unsupported, "\(file.source): \(problem.message)")
        }
        func linear(_ module: String, outFeatures: Int) throws -> LinearWeights {
            let weight = saved.first { $0.name.hasSuffix("." + module + ".weight") }!, bias = saved.first { $0.name.hasSuffix("." + module + ".bias") }!
            return LinearWeights(
                weight: try file.floatBuffer(weight.name, shape: [outFeatures, h]), bias: try file.floatBuffer(bias.name, shape: [outFeatures]),
                inFeatures: h, outFeatures: outFeatures)
        }
        let labels = layout.labelCount
        guard labels >= 1, labels <= HeadConfig.maximumLabels else {
            throw QuiverError(.invalidInput, "\(file.source): classifier of \(labels) labels")
        }
        let first: LinearWeights
        switch layout.family {
        case .bert:
            // A pooler saved with the head (`modules_to_save` naming it) was trained: it replaces the base's.
            if saved.contains(where: { $0.name.hasSuffix(".pooler.dense.weight") }) {
                first = try linear("pooler.dense", outFeatures: h)
            } else if let pooler {
                first = pooler
            } else {
                throw QuiverError(.incompatible, "\(file.source): a PEFT sequence classifier needs the base model's pooler, which its checkpoint lacks")
            }
        case .roberta, .xlmRoberta: first = try linear("classifier.dense", outFeatures: h)
        case .distilbert: first = try linear("pre_classifier", outFeatures: h)
        }
        config = try HeadConfig(
            json: .object([("config", .object([
                ("head_type", .string("classification")), ("layers", .integer(2)),
                ("activation_function", .string(layout.family == .distilbert ? "relu" : "tanh")), ("num_labels", .integer(Int64(labels))),
            ]))]),
            source: file.source)
        layers = [first, try linear(layout.family.peftClassifierOutput, outFeatures: labels)]
    }

    /// Nil when a PEFT folder's saved modules are a head this build runs (see `init(peftClassifier:…)`), else why
    /// not, in one line.
    public static func peftClassifierProblem(_ tensors: [TensorInfo], peft: PEFTConfig, hiddenSize h: Int) -> String? {
        if case .failure(let problem) = PEFTClassifierLayout.read(tensors.filter { peft.isHead($0.name) }, hiddenSize: h) { return problem.message }
        return nil
    }

    /// Logits per item from the [CLS] vectors of the last hidden states, every item in one product per layer.
    public func logits(_ states: HiddenStates) -> [[Float]] {
        let batch = states.batch
        guard batch > 0 else { return [] }
        var x = states.pooled(.cls).flatMap { $0 }  // x is (batch, features)
        for (index, layer) in layers.enumerated() {
            var y = [Float](repeating: 0, count: batch * layer.outFeatures)
            x.withUnsafeBufferPointer { input in
                y.withUnsafeMutableBufferPointer { output in
                    layer.forward(input.baseAddress!, rows: batch, into: output.baseAddress!)
                    if index < layers.count - 1 {
                        config.activation.apply(output.baseAddress!, into: output.baseAddress!, count: output.count)
                    }
                }
            }
            x = y
        }
        let width = x.count / batch
        return (0..<batch).map { Array(x[($0 * width)..<(($0 + 1) * width)]) }
    }
}

/// Which task class a PEFT classifier's saved modules come from, told by their names, with its number of labels.
struct PEFTClassifierLayout {
    struct Problem: Error { let message: String }

    /// The family whose `…ForSequenceClassification` head the modules are (RoBERTa's stands for XLM-R's too).
    let family: EncoderFamily
    let labelCount: Int

    /// The modules each head saves, by the name ending each tensor's module.
    private static let modules: [(EncoderFamily, [String])] = [
        (.roberta, ["classifier.dense", "classifier.out_proj"]),
        (.distilbert, ["pre_classifier", "classifier"]),
        (.bert, ["classifier"]),
    ]

    static func read(_ saved: [TensorInfo], hiddenSize h: Int) -> Result<PEFTClassifierLayout, Problem> {
        func has(_ module: String) -> Bool {
            saved.contains { $0.name.hasSuffix("." + module + ".weight") } && saved.contains { $0.name.hasSuffix("." + module + ".bias") }
        }
        for (family, modules) in modules where modules.allSatisfy(has) {
            var known = modules
            if family == .bert { known.append("pooler.dense") }
            let output = family.peftClassifierOutput
            guard saved.allSatisfy({ tensor in known.contains { tensor.name.hasSuffix("." + $0 + ".weight") || tensor.name.hasSuffix("." + $0 + ".bias") } }),
                let weight = saved.first(where: { $0.name.hasSuffix("." + output + ".weight") }), weight.shape.count == 2, weight.shape[1] == h
            else { break }
            return .success(PEFTClassifierLayout(family: family, labelCount: weight.shape[0]))
        }
        return .failure(Problem(message:
            "PEFT heads (modules_to_save) other than a sequence classifier of BERT (classifier on the pooler), RoBERTa (classifier.dense, classifier.out_proj) or DistilBERT (pre_classifier, classifier) are stored and distributed; this build does not run them"))
    }
}

extension EncoderFamily {
    /// The module of a `…ForSequenceClassification` head that writes the logits.
    var peftClassifierOutput: String {
        switch self {
        case .bert, .distilbert: "classifier"
        case .roberta, .xlmRoberta: "classifier.out_proj"
        }
    }
}
