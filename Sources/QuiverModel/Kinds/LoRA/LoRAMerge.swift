import QuiverTensor

extension BertEncoder {
    /// A copy of this encoder with `adapter`'s deltas merged into the weights, `W' = W + s·B·A`: the same
    /// outputs as running the adapter through hooks (up to rounding), with no per-call LoRA cost.
    /// Unchanged weights are shared, not copied.
    public func merging(_ adapter: LoRAAdapter) throws -> BertEncoder {
        let h = config.hiddenSize
        var layers = weights.layers
        for (site, module) in adapter.modules {
            guard layers.indices.contains(site.layer) else {
                throw QuiverError(.incompatible, "LoRA for layer \(site.layer) of a \(layers.count)-layer model")
            }
            let layer = layers[site.layer]
            func merged(_ linear: LinearWeights, rowOffset: Int = 0) throws -> LinearWeights {
                guard module.inFeatures == linear.inFeatures, rowOffset + module.outFeatures <= linear.outFeatures else {
                    throw QuiverError(.incompatible, "LoRA at layer \(site.layer) \(site.projection.rawValue) is \(module.outFeatures)×\(module.inFeatures), the layer is \(linear.outFeatures)×\(linear.inFeatures)")
                }
                let weight = FloatBuffer(count: linear.weight.count)
                weight.pointer.update(from: linear.weight.readPointer, count: linear.weight.count)
                // W[rows offset…] (out, in) += s · B (out, r) · A (r, in)
                Gemm.sgemm(
                    .normal, .normal, m: module.outFeatures, n: module.inFeatures, k: module.rank, alpha: module.scaling,
                    a: module.b.readPointer, lda: module.rank, b: module.a.readPointer, ldb: module.inFeatures, beta: 1,
                    c: weight.pointer + rowOffset * linear.inFeatures, ldc: linear.inFeatures)
                return LinearWeights(weight: weight, bias: linear.bias, inFeatures: linear.inFeatures, outFeatures: linear.outFeatures)
            }
            var queryKeyValue = layer.queryKeyValue, attentionOutput = layer.attentionOutput
            var intermediate = layer.intermediate, output = layer.output
            switch site.projection {
            case .query: queryKeyValue = try merged(queryKeyValue, rowOffset: 0)
            case .key: queryKeyValue = try merged(queryKeyValue, rowOffset: h)
            case .value: queryKeyValue = try merged(queryKeyValue, rowOffset: 2 * h)
            case .attentionOutput: attentionOutput = try merged(attentionOutput)
            case .intermediate: intermediate = try merged(intermediate)
            case .output: output = try merged(output)
            }
            layers[site.layer] = EncoderLayerWeights(
                queryKeyValue: queryKeyValue, attentionOutput: attentionOutput, attentionNorm: layer.attentionNorm,
                intermediate: intermediate, output: output, outputNorm: layer.outputNorm)
        }
        do {
            return try BertEncoder(config: config, weights: BertEncoderWeights(embeddings: weights.embeddings, layers: layers, pooler: weights.pooler))
        } catch {
            throw QuiverError(.invalidInput, "\(error)")
        }
    }
}
