import QuiverTensor

/// A place in the encoder where a bottleneck adapter or a fusion layer sits.
public struct AdapterSite: Hashable, Sendable, CustomStringConvertible {
    public let layer: Int
    public let location: SublayerLocation

    public init(layer: Int, location: SublayerLocation) {
        self.layer = layer
        self.location = location
    }

    public var description: String { "layer \(layer) \(location.rawValue)" }
}

/// A projection of the encoder that carries a LoRA module.
public struct LoRASite: Hashable, Sendable {
    public let layer: Int
    public let projection: ProjectionSite
}

extension SublayerLocation {
    init(_ location: AdapterTensor.BottleneckLocation) {
        switch location {
        case .attentionOutput: self = .attentionOutput
        case .output: self = .output
        }
    }
}

extension EncoderFamily {
    /// The encoder projection a module name is (`…encoder.layer.3.attention.self.key`, `…transformer.layer.3.ffn.lin1`),
    /// or nil for any other module.
    static func projectionSite(ofModule module: String) -> LoRASite? {
        guard let (index, spelling, tail) = layer(of: Substring(module)),
            let target = AdapterTensor.LoRATarget.allCases.first(where: { spelling.projectionModule($0) == tail })
        else { return nil }
        return LoRASite(layer: index, projection: ProjectionSite(target))
    }
}

extension ProjectionSite {
    init(_ target: AdapterTensor.LoRATarget) {
        switch target {
        case .query: self = .query
        case .key: self = .key
        case .value: self = .value
        case .attentionOutput: self = .attentionOutput
        case .intermediate: self = .intermediate
        case .output: self = .output
        }
    }
}

extension SafetensorsFile {
    /// One tensor as a Float buffer (converted from F16/BF16), checking its shape when given.
    func floatBuffer(_ name: String, shape expected: [Int]? = nil) throws -> FloatBuffer {
        let info = try info(name)
        if let expected, info.shape != expected {
            throw QuiverError(.invalidInput, "\(source): tensor '\(name)' has shape \(info.shape), expected \(expected)")
        }
        return FloatBuffer(try floats(name))
    }
}
