import QuiverTensor

/// The `adapters` library's prefix tuning, ready to run: for every layer not left out, `length` key and value
/// vectors that join the layer's self-attention in front of the item's own keys and values, seen by every query
/// (docs/fixtures-kinds.md, "`adapters` prefix tuning").
///
/// The library saves the reparametrisation (an embedding `wte` [P, H] through `control_trans`, Linear → activation →
/// Linear) and recomputes it on every forward pass; it is input-independent, so it is collapsed here once at load,
/// as the library's `eject_prefix_tuning` does for inference. A `flat` prefix is stored collapsed already.
public final class PrefixTuningAdapter: Sendable {
    public let config: PrefixTuningConfig
    /// P: positions per layer.
    public let length: Int
    /// Per encoder layer, its prefix; nil for a layer in `leave_out`.
    public let layers: [AttentionPrefix?]

    /// Loads a prefix from an `adapters` weights file (`[model.]prefix_tuning.prefix_tunings.<name>.self_prefix.…`, `.self.…` on DistilBERT,
    /// plus the per-layer aliases `…encoder.layer.L.attention.self.prefix_tuning.pool.prefix_tunings.<name>.…` that
    /// a `.bin` points at the same storage, each checked equal to the pool's tensor). Every shape is checked before a
    /// value is read.
    public init(config: PrefixTuningConfig, weights file: SafetensorsFile, base: BertConfig) throws {
        let tensors = try PrefixTensors(file)
        let h = base.hiddenSize
        let prefixed = (0..<base.layerCount).filter { !config.leaveOut.contains($0) }
        let width = prefixed.count * 2 * h  // keys and values of every prefixed layer, side by side
        let p = config.prefixLength
        let collapsed: [Float]
        if let flat = tensors.components["control_trans"] {
            try tensors.expect(flat, [p * width], "\(p) positions × \(prefixed.count) layers × keys and values × \(h)")
            collapsed = try file.floats(flat.name)
        } else {
            collapsed = try PrefixReparametrisation(
                tensors, file: file, length: p, hidden: h, width: width, nonLinearity: config.nonLinearity
            ).collapsed()
        }
        // collapsed is (P, prefixed layers · 2, H): layer i's keys at column block 2i, its values at 2i + 1.
        var layers = [AttentionPrefix?](repeating: nil, count: base.layerCount)
        for (index, layer) in prefixed.enumerated() {
            let keys = FloatBuffer(count: p * h)
            let values = FloatBuffer(count: p * h)
            for position in 0..<p {
                let row = position * width + 2 * index * h
                for column in 0..<h {
                    keys.pointer[position * h + column] = collapsed[row + column]
                    values.pointer[position * h + column] = collapsed[row + h + column]
                }
            }
            layers[layer] = AttentionPrefix(length: p, keys: keys, values: values)
        }
        self.config = config
        self.length = p
        self.layers = layers
    }
}

extension PrefixTuningConfig: EncoderAdapterConfig {
    public func adapter(weights: SafetensorsFile, base: BertConfig) throws -> any EncoderAdapter {
        try PrefixTuningAdapter(config: self, weights: weights, base: base)
    }
}

/// In the self-attention: its keys and values in front of the item's own.
extension PrefixTuningAdapter: EncoderAdapter {
    public var firstLayer: Int? { layers.firstIndex { $0 != nil } }
    public var attentionPrefixLength: Int { length }
    public func attentionPrefix(layer: Int) -> AttentionPrefix? { layers.indices.contains(layer) ? layers[layer] : nil }
}

// MARK: - Tensors

/// A prefix-tuning weights file's tensors by component (`wte.weight`, `control_trans.0.weight`…, or the flat
/// `control_trans`), its aliases checked against them.
struct PrefixTensors {
    let file: SafetensorsFile
    /// Component → the pool's tensor.
    private(set) var components: [String: TensorInfo] = [:]

    static let mlpComponents: Set = [
        "wte.weight", "control_trans.0.weight", "control_trans.0.bias", "control_trans.2.weight",
        "control_trans.2.bias",
    ]

    init(_ file: SafetensorsFile) throws {
        self.file = file
        var name: String?
        var aliases: [(TensorInfo, String)] = []
        for tensor in file.header.tensors {
            let location = "\(file.source): tensor '\(tensor.name)'"
            let adapter: String
            let component: String
            if let match = tensor.name.wholeMatch(
                of: /(?:[^.]+\.)?prefix_tuning\.prefix_tunings\.([^.]+)\.(?:self_prefix|self)\.(.+)/)
            {
                (adapter, component) = (String(match.1), String(match.2))
                components[component] = tensor
            } else if let match = tensor.name.wholeMatch(
                of:
                    /(?:[^.]+\.)?(?:encoder\.layer\.\d{1,9}\.attention\.self|transformer\.layer\.\d{1,9}\.attention)\.prefix_tuning\.pool\.prefix_tunings\.([^.]+)\.(?:self_prefix|self)\.(.+)/
            ) {
                (adapter, component) = (String(match.1), String(match.2))
                aliases.append((tensor, component))
            } else {
                throw QuiverError(.invalidInput, "\(location) is not a prefix tuning tensor")
            }
            guard name == nil || name == adapter else {
                throw QuiverError(
                    .invalidInput, "\(location) belongs to prefix '\(adapter)', the file's other tensors to '\(name!)'")
            }
            name = adapter
            guard component == "control_trans" || Self.mlpComponents.contains(component) else {
                throw QuiverError(.invalidInput, "\(location) is not part of a prefix (\(component))")
            }
        }
        let isFlat = components["control_trans"] != nil
        let expected: Set<String> = isFlat ? ["control_trans"] : Self.mlpComponents
        if let missing = expected.subtracting(components.keys).sorted().first {
            throw QuiverError(
                .invalidInput,
                "\(file.source): prefix tuning lacks '\(missing)' (prefix_tuning.prefix_tunings.\(name ?? "?").self_prefix.\(missing))"
            )
        }
        if let extra = Set(components.keys).subtracting(expected).sorted().first {
            throw QuiverError(
                .invalidInput,
                "\(file.source): tensor '\(components[extra]!.name)' does not go with a \(isFlat ? "flat" : "reparametrised") prefix"
            )
        }
        // An alias is the same storage under a layer's name: the same shape, dtype and bytes.
        for (alias, component) in aliases {
            guard let pool = components[component], pool.shape == alias.shape, pool.dtype == alias.dtype,
                file.withBytes(of: pool, { a in file.withBytes(of: alias) { b in a.elementsEqual(b) } })
            else {
                throw QuiverError(
                    .invalidInput,
                    "\(file.source): tensor '\(alias.name)' differs from the prefix pool's '\(component)' it should alias"
                )
            }
        }
    }

    func expect(_ tensor: TensorInfo, _ shape: [Int], _ meaning: String) throws {
        guard tensor.shape == shape else {
            throw QuiverError(
                .invalidInput,
                "\(file.source): tensor '\(tensor.name)' has shape \(tensor.shape), expected \(shape) (\(meaning))")
        }
    }
}

// MARK: - Collapsing the reparametrisation

/// `KV = control_trans.2(act(control_trans.0(wte)))`, (P, width): the library's `PrefixTuning.forward` without
/// the batch, computed once.
struct PrefixReparametrisation {
    /// embedding is (P, H): `wte` applied to the tokens 0..<P is its whole table.
    let embedding: [Float]
    let down: LinearWeights
    let up: LinearWeights
    let nonLinearity: Nonlinearity
    let length: Int

    init(
        _ tensors: PrefixTensors, file: SafetensorsFile, length p: Int, hidden h: Int, width: Int,
        nonLinearity: Nonlinearity
    ) throws {
        let c = tensors.components
        try tensors.expect(c["wte.weight"]!, [p, h], "prefix_length \(p) × hidden \(h)")
        let downShape = c["control_trans.0.weight"]!.shape
        guard downShape.count == 2, downShape[1] == h, downShape[0] >= 1 else {
            throw QuiverError(
                .invalidInput,
                "\(file.source): tensor '\(c["control_trans.0.weight"]!.name)' has shape \(downShape), expected [bottleneck, \(h)]"
            )
        }
        let b = downShape[0]
        try tensors.expect(c["control_trans.0.bias"]!, [b], "bottleneck \(b)")
        try tensors.expect(
            c["control_trans.2.weight"]!, [width, b], "layers × keys and values × hidden = \(width), bottleneck \(b)")
        try tensors.expect(c["control_trans.2.bias"]!, [width], "layers × keys and values × hidden")
        embedding = try file.floats(c["wte.weight"]!.name)
        down = LinearWeights(
            weight: FloatBuffer(try file.floats(c["control_trans.0.weight"]!.name)),
            bias: FloatBuffer(try file.floats(c["control_trans.0.bias"]!.name)),
            inFeatures: h, outFeatures: b)
        up = LinearWeights(
            weight: FloatBuffer(try file.floats(c["control_trans.2.weight"]!.name)),
            bias: FloatBuffer(try file.floats(c["control_trans.2.bias"]!.name)),
            inFeatures: b, outFeatures: width)
        self.nonLinearity = nonLinearity
        self.length = p
    }

    /// The collapsed prefix, (P, width), with the encoder's products.
    func collapsed() -> [Float] {
        let hidden = FloatBuffer(count: length * down.outFeatures)
        let output = FloatBuffer(count: length * up.outFeatures)
        embedding.withUnsafeBufferPointer { e in
            Linear.forward(
                e.baseAddress!, weight: down.weight.readPointer, bias: down.bias.readPointer, into: hidden.pointer,
                rows: length, inFeatures: down.inFeatures, outFeatures: down.outFeatures)
        }
        nonLinearity.apply(hidden.pointer, into: hidden.pointer, count: hidden.count)
        Linear.forward(
            hidden.readPointer, weight: up.weight.readPointer, bias: up.bias.readPointer, into: output.pointer,
            rows: length, inFeatures: up.inFeatures, outFeatures: up.outFeatures)
        return output.array
    }

    /// The slow twin of `collapsed`, in Double loops.
    func collapsedReference() -> [Double] {
        let h = down.inFeatures
        let b = down.outFeatures
        let width = up.outFeatures
        var result = [Double](repeating: 0, count: length * width)
        for position in 0..<length {
            var middle = [Double](repeating: 0, count: b)
            for j in 0..<b {
                var sum = Double(down.bias.pointer[j])
                for i in 0..<h { sum += Double(embedding[position * h + i]) * Double(down.weight.pointer[j * h + i]) }
                middle[j] = BertEncoder.Reference.activate(sum, nonLinearity)
            }
            for k in 0..<width {
                var sum = Double(up.bias.pointer[k])
                for j in 0..<b { sum += middle[j] * Double(up.weight.pointer[k * b + j]) }
                result[position * width + k] = sum
            }
        }
        return result
    }
}
