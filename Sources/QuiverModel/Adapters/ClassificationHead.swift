import QuiverStore
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
