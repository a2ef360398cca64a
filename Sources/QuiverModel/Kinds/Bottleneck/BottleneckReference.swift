import QuiverTensor

extension BottleneckAdapter {
    /// The slow twin of `BottleneckMath` for `BertEncoder.Reference`, in Double: `adapters`' `Stack` of bottleneck
    /// adapters at one site (one adapter is a stack of one) — each present adapter's pre_forward and forward on the
    /// previous one's output, the last one's post_forward. projected and residual are (rows, hidden).
    static func referenceStack(
        _ adapters: [BottleneckAdapter], at site: AdapterSite, projected: [Double], residual input: [Double],
        norm: LayerNormWeights, rows: Int
    ) -> [Double] {
        let present = adapters.filter { $0.modules[site] != nil }
        func layerNorm(_ x: [Double], _ weights: LayerNormWeights) -> [Double] {
            BertEncoder.Reference.layerNorm(x, weights, rows: rows, epsilon: Double(weights.epsilon))
        }
        func add(_ a: [Double], _ b: [Double]) -> [Double] { zip(a, b).map(+) }
        guard let last = present.last else { return layerNorm(add(projected, input), norm) }
        var states = projected
        for adapter in present {
            let config = adapter.config
            let module = adapter.modules[site]!
            // pre_forward
            var residual = states
            var x = states
            if config.originalLayerNormBefore {
                x = add(states, input)
                if config.residual == .postAdd { residual = x }
                x = layerNorm(x, norm)
            }
            if config.residual == .afterLayerNorm { residual = x }
            // forward: up(act(down(LN_before?(x)))) · scaling, the residual, LN_after
            let downInput = module.normBefore.map { layerNorm(x, $0) } ?? x
            let middle = BertEncoder.Reference.linear(downInput, module.down, rows: rows).map {
                BertEncoder.Reference.activate($0, config.nonLinearity)
            }
            var up = BertEncoder.Reference.linear(middle, module.up, rows: rows)
            let h = module.up.outFeatures
            for index in up.indices {
                switch config.scaling {
                case .fixed(let factor): up[index] *= Double(factor)
                case .learned: up[index] *= Double(module.learnedScaling!.pointer[0])
                case .channel: up[index] *= Double(module.learnedScaling!.pointer[index % h])
                }
            }
            if config.adapterResidualBeforeLayerNorm { up = add(up, residual) }
            if let normAfter = module.normAfter { up = layerNorm(up, normAfter) }
            if !config.adapterResidualBeforeLayerNorm { up = add(up, residual) }
            states = up
        }
        // post_forward
        return last.config.originalLayerNormAfter ? layerNorm(add(states, input), norm) : states
    }
}
