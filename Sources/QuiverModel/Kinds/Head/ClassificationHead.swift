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

    /// A PEFT sequence classifier (`task_type` SEQ_CLS; `classifier` saved whole via `modules_to_save`) on
    /// `BertForSequenceClassification`: the base's pooler (dense + tanh on [CLS]) then the saved Linear — the same
    /// two layers with tanh between them as an `adapters` head. Labels are `LABEL_0…` (PEFT saves no label names).
    public init(peftClassifier file: SafetensorsFile, peft: PEFTConfig, pooler: LinearWeights?, hiddenSize h: Int) throws {
        let classifier = file.header.tensors.filter { peft.isHead($0.name) }
        if let problem = Self.peftClassifierProblem(file.header.tensors, peft: peft, hiddenSize: h) {
            throw QuiverError(.unsupported, "\(file.source): \(problem)")
        }
        let weight = classifier.first { $0.name.hasSuffix("classifier.weight") }!, bias = classifier.first { $0.name.hasSuffix("classifier.bias") }!
        // A pooler saved with the head (`modules_to_save` naming it) was trained: it replaces the base's.
        var pooler = pooler
        if let savedWeight = classifier.first(where: { $0.name.hasSuffix("pooler.dense.weight") }),
            let savedBias = classifier.first(where: { $0.name.hasSuffix("pooler.dense.bias") })
        {
            pooler = LinearWeights(
                weight: try file.floatBuffer(savedWeight.name, shape: [h, h]), bias: try file.floatBuffer(savedBias.name, shape: [h]), inFeatures: h, outFeatures: h)
        }
        guard let pooler else {
            throw QuiverError(.incompatible, "\(file.source): a PEFT sequence classifier needs the base model's pooler, which its checkpoint lacks")
        }
        let labels = weight.shape[0]
        guard labels >= 1, labels <= HeadConfig.maximumLabels else {
            throw QuiverError(.invalidInput, "\(file.source): classifier of \(labels) labels")
        }
        config = try HeadConfig(
            json: .object([("config", .object([
                ("head_type", .string("classification")), ("layers", .integer(2)), ("activation_function", .string("tanh")),
                ("num_labels", .integer(Int64(labels))),
            ]))]),
            source: file.source)
        layers = [
            pooler,
            LinearWeights(
                weight: try file.floatBuffer(weight.name, shape: [labels, h]), bias: try file.floatBuffer(bias.name, shape: [labels]),
                inFeatures: h, outFeatures: labels),
        ]
    }

    /// Nil when a PEFT folder's saved modules are a head this build runs — `classifier.{weight,bias}` reading the
    /// hidden size, optionally with the `pooler.dense` it was trained with — else why not, in one line.
    public static func peftClassifierProblem(_ tensors: [TensorInfo], peft: PEFTConfig, hiddenSize h: Int) -> String? {
        let head = tensors.filter { peft.isHead($0.name) }
        let known = ["classifier.weight", "classifier.bias", "pooler.dense.weight", "pooler.dense.bias"]
        guard let weight = head.first(where: { $0.name.hasSuffix("classifier.weight") }), weight.shape.count == 2, weight.shape[1] == h,
            head.contains(where: { $0.name.hasSuffix("classifier.bias") }),
            head.allSatisfy({ tensor in known.contains { tensor.name.hasSuffix($0) } })
        else {
            return "PEFT heads (modules_to_save) other than one Linear `classifier` on BERT's pooler are stored and distributed; this build does not run them"
        }
        return nil
    }

    /// Logits per item from the [CLS] vectors of the last hidden states.
    public func logits(_ states: HiddenStates) -> [[Float]] {
        let cls = states.pooled(.cls)
        return cls.map { vector in
            var x = vector
            for (index, layer) in layers.enumerated() {
                var y = [Float](repeating: 0, count: layer.outFeatures)
                x.withUnsafeBufferPointer { input in
                    y.withUnsafeMutableBufferPointer { output in
                        Linear.forward(input.baseAddress!, weight: layer.weight.readPointer, bias: layer.bias.readPointer,
                                       into: output.baseAddress!, rows: 1, inFeatures: layer.inFeatures, outFeatures: layer.outFeatures)
                        if index < layers.count - 1 { config.activation.apply(output.baseAddress!, into: output.baseAddress!, count: layer.outFeatures) }
                    }
                }
                x = y
            }
            return x
        }
    }
}
