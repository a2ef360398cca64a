import QuiverTensor

/// One LoRA module: `output += scaling · (input · Aᵀ) · Bᵀ`.
public struct LoRAModule: Sendable {
    /// a is (rank, inFeatures).
    public let a: FloatBuffer
    /// b is (outFeatures, rank).
    public let b: FloatBuffer
    public let rank: Int
    public let inFeatures: Int
    public let outFeatures: Int
    public let scaling: Float
}

/// LoRA on the encoder's projections, in the `adapters` layout or PEFT's.
public final class LoRAAdapter: Sendable {
    public let config: LoRAConfig
    public let modules: [LoRASite: LoRAModule]

    /// Loads the LoRA matrices of a weights file. PEFT's matrices on the pooler (its `"dense"` target also
    /// matches `pooler.dense`) do not affect hidden states and are skipped.
    public init(config: LoRAConfig, weights file: SafetensorsFile, base: BertConfig) throws {
        var pairs: [LoRASite: (a: String?, b: String?)] = [:]
        for tensor in file.header.tensors {
            switch AdapterTensor.parse(tensor.name) {
            case .lora(let layer, let target, _, let matrix)?:
                let site = LoRASite(layer: layer, projection: ProjectionSite(target))
                if matrix == .a { pairs[site, default: (nil, nil)].a = tensor.name } else { pairs[site, default: (nil, nil)].b = tensor.name }
            default:
                if tensor.name.hasPrefix("base_model.model.") && (tensor.name.contains("pooler.dense.lora_") || !tensor.name.contains(".lora_")) {
                    continue  // pooler LoRA, or a module PEFT saved whole (`modules_to_save`)
                }
                if let tuner = TunerTensor.parse(tensor.name, kind: .lora) {
                    throw QuiverError(
                        .unsupported,
                        "\(file.source): LoRA on \(tuner.module) (\(tuner.marker)) is not run by this build (only on encoder layer projections)")
                }
                throw QuiverError(.invalidInput, "\(file.source): tensor '\(tensor.name)' is not a LoRA tensor")
            }
        }
        var modules: [LoRASite: LoRAModule] = [:]
        for (site, names) in pairs {
            guard let aName = names.a, let bName = names.b else {
                throw QuiverError(.invalidInput, "\(file.source): layer \(site.layer) \(site.projection.rawValue) has lora_\(names.a == nil ? "A" : "B") without its partner")
            }
            let aShape = try file.info(aName).shape, bShape = try file.info(bName).shape
            guard aShape.count == 2, bShape.count == 2, aShape[0] == bShape[1], aShape[0] >= 1 else {
                throw QuiverError(.invalidInput, "\(file.source): layer \(site.layer) \(site.projection.rawValue): lora_A \(aShape) and lora_B \(bShape) do not chain")
            }
            modules[site] = LoRAModule(
                a: try file.floatBuffer(aName), b: try file.floatBuffer(bName), rank: aShape[0], inFeatures: aShape[1],
                outFeatures: bShape[0], scaling: config.scaling)
        }
        self.config = config
        self.modules = modules
    }

    var largestRank: Int { modules.values.map(\.rank).max() ?? 0 }
}

extension LoRAModule {
    /// The slow twin of the LoRA hook, in Double: y (rows, out) += scaling · (x (rows, in) · Aᵀ) · Bᵀ.
    func reference(input x: [Double], rows: Int, output y: inout [Double]) {
        for row in 0..<rows {
            let reduced = (0..<rank).map { r in
                (0..<inFeatures).reduce(0.0) { $0 + x[row * inFeatures + $1] * Double(a.pointer[r * inFeatures + $1]) }
            }
            for column in 0..<outFeatures {
                let delta = (0..<rank).reduce(0.0) { $0 + reduced[$1] * Double(b.pointer[column * rank + $1]) }
                y[row * outFeatures + column] += Double(scaling) * delta
            }
        }
    }
}

extension LoRAConfig: EncoderAdapterConfig {
    public func adapter(weights: SafetensorsFile, base: BertConfig) throws -> any EncoderAdapter {
        try LoRAAdapter(config: self, weights: weights, base: base)
    }
}

/// On the projections: `output += s · (input · Aᵀ) · Bᵀ`.
extension LoRAAdapter: EncoderAdapter {
    public var firstLayer: Int? { modules.keys.map(\.layer).min() }
    public func scratchPerRow(hiddenSize: Int) -> Int { largestRank }
    public var projectionSites: [LoRASite] { Array(modules.keys) }

    public func changeOutput(of site: LoRASite, _ context: ProjectionHookContext, rows range: Range<Int>) {
        guard let module = modules[site] else { return }
        let rows = range.count
        var arena = ScratchArena(context.scratch)
        let reduced = arena.take(rows * module.rank)  // reduced is (rows, rank)
        Linear.forward(
            context.input + range.lowerBound * context.inFeatures, weight: module.a.readPointer, bias: nil,
            into: reduced, rows: rows, inFeatures: module.inFeatures, outFeatures: module.rank, threading: context.threading)
        // output (rows, out) += scaling · reduced · Bᵀ
        Gemm.sgemm(
            .normal, .transposed, m: rows, n: module.outFeatures, k: module.rank, alpha: module.scaling,
            a: reduced, lda: module.rank, b: module.b.readPointer, ldb: module.rank, beta: 1,
            c: context.output + range.lowerBound * context.outputStride, ldc: context.outputStride,
            threading: context.threading)
    }

    public func referenceOutput(of site: LoRASite, input x: [Double], _ y: inout [Double]) {
        guard let module = modules[site] else { return }
        module.reference(input: x, rows: x.count / module.inFeatures, output: &y)
    }
}
