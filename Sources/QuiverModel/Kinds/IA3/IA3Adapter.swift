import QuiverTensor

/// One IA³ vector on one projection of the encoder, with the config's scaling folded in.
public struct IA3Vector: Sendable {
    /// scale is (outFeatures) when it multiplies the projection's output, (inFeatures) when it multiplies its input.
    public let scale: FloatBuffer
    /// PEFT's feed-forward form: `y = W (x ⊙ l) + b`; otherwise `y = (W x + b) ⊙ l`.
    public let scalesInput: Bool

    /// x (rows, count) ⊙= scale on every row, rows `stride` floats apart.
    func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, stride: Int) {
        let scale = self.scale.readPointer
        let count = self.scale.count
        for row in 0..<rows {
            let line = x + row * stride
            for column in 0..<count { line[column] *= scale[column] }
        }
    }

    /// The slow twin of `apply`, in Double: x (rows, count) row-major.
    func reference(_ x: inout [Double], rows: Int) {
        let count = scale.count
        for row in 0..<rows {
            for column in 0..<count { x[row * count + column] *= Double(scale.pointer[column]) }
        }
    }
}

/// IA³ on the encoder's projections, in the `adapters` layout or PEFT's (see `IA3Config`).
public final class IA3Adapter: Sendable {
    public let config: IA3Config
    public let vectors: [LoRASite: IA3Vector]

    /// Loads the vectors of a weights file: `<module>.loras.<name>.lora_B` [out, 1] (`adapters`) or
    /// `base_model.model.<module>.ia3_l` [out, 1] / [1, in] (PEFT; modules PEFT saved whole, such as a classifier,
    /// are skipped). Every shape is checked against the base before a value is read.
    public init(config: IA3Config, weights file: SafetensorsFile, base: BertConfig) throws {
        var vectors: [LoRASite: IA3Vector] = [:]
        let marker = config.layout == .adapters ? "lora_B" : "ia3_l"
        for tensor in file.header.tensors {
            let location = "\(file.source): tensor '\(tensor.name)'"
            guard let tuner = TunerTensor.parse(tensor.name, kind: .ia3) else {
                // A module PEFT saved whole (`modules_to_save`, the classifier) is the head's.
                if config.layout == .peft, tensor.name.hasPrefix("base_model.model.") { continue }
                throw QuiverError(.invalidInput, "\(location) is not an IA³ vector (\(marker))")
            }
            guard tuner.marker == marker else {
                throw QuiverError(.invalidInput, "\(location) is not an IA³ vector (\(marker))")
            }
            guard let site = EncoderFamily.projectionSite(ofModule: tuner.module) else {
                throw QuiverError(
                    .unsupported,
                    "\(location): IA³ on \(tuner.module) is not run by this build (only on encoder layer projections)")
            }
            guard site.layer < base.layerCount else {
                throw QuiverError(
                    .invalidInput, "\(location) is for layer \(site.layer), the base has \(base.layerCount) layers")
            }
            let target = AdapterTensor.LoRATarget(site.projection)
            guard config.targets.contains(target), !config.leaveOut.contains(site.layer) else {
                throw QuiverError(
                    .invalidInput,
                    "\(location) is on a projection the config does not adapt (\(target.rawValue), layer \(site.layer))"
                )
            }
            guard vectors[site] == nil else {
                throw QuiverError(
                    .invalidInput, "\(location): a second IA³ vector for \(target.rawValue) of layer \(site.layer)")
            }
            let inFeatures = site.projection == .output ? base.intermediateSize : base.hiddenSize
            let outFeatures = site.projection == .intermediate ? base.intermediateSize : base.hiddenSize
            // PEFT's list of feed-forward modules decides; with a regex (or none saved) the vector's shape tells.
            let scalesInput = config.isFeedforward(module: tuner.module) ?? (tensor.shape == [1, inFeatures])
            let expected = scalesInput ? [1, inFeatures] : [outFeatures, 1]
            guard tensor.shape == expected else {
                let form =
                    scalesInput
                    ? "feed-forward, scaling the \(inFeatures) inputs" : "scaling the \(outFeatures) outputs"
                throw QuiverError(
                    .invalidInput,
                    "\(location) has shape \(tensor.shape), expected \(expected) (\(form) of \(target.rawValue))")
            }
            var values = try file.floats(tensor.name)
            if config.scaling != 1 { values = values.map { $0 * config.scaling } }
            vectors[site] = IA3Vector(scale: FloatBuffer(values), scalesInput: scalesInput)
        }
        self.config = config
        self.vectors = vectors
    }
}

extension AdapterTensor.LoRATarget {
    init(_ site: ProjectionSite) {
        switch site {
        case .query: self = .query
        case .key: self = .key
        case .value: self = .value
        case .attentionOutput: self = .attentionOutput
        case .intermediate: self = .intermediate
        case .output: self = .output
        }
    }
}

extension IA3Config: EncoderAdapterConfig {
    public func adapter(weights: SafetensorsFile, base: BertConfig) throws -> any EncoderAdapter {
        try IA3Adapter(config: self, weights: weights, base: base)
    }
}

/// On the projections: `(W x + b) ⊙ l` after the bias, as the libraries do, or PEFT's feed-forward `W (x ⊙ l) + b`.
extension IA3Adapter: EncoderAdapter {
    public var firstLayer: Int? { vectors.keys.map(\.layer).min() }
    public var projectionSites: [LoRASite] { Array(vectors.keys) }
    public func scalesInput(of site: LoRASite) -> Bool { vectors[site]?.scalesInput == true }

    public func scaleInput(of site: LoRASite, _ input: UnsafeMutablePointer<Float>, rows: Int, inFeatures: Int) {
        guard let vector = vectors[site], vector.scalesInput else { return }
        vector.apply(input, rows: rows, stride: inFeatures)
    }

    public func changeOutput(of site: LoRASite, _ context: ProjectionHookContext, rows: Range<Int>) {
        guard let vector = vectors[site], !vector.scalesInput else { return }
        vector.apply(context.output + rows.lowerBound * context.outputStride, rows: rows.count, stride: context.outputStride)
    }

    public func referenceInput(of site: LoRASite, _ x: inout [Double]) {
        guard let vector = vectors[site], vector.scalesInput else { return }
        vector.reference(&x, rows: x.count / vector.scale.count)
    }

    public func referenceOutput(of site: LoRASite, input x: [Double], _ y: inout [Double]) {
        guard let vector = vectors[site], !vector.scalesInput else { return }
        vector.reference(&y, rows: y.count / vector.scale.count)
    }
}
