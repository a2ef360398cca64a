import QuiverTensor

/// Compositions in `BertEncoder.Reference`: each kind's slow twin, item by item, so every fast hook has a Double
/// reference to be tested against. Fusions and `Average` have none (their parity is checked against the library's
/// fixtures only); a reference pass over them stops.
extension CompositionHooks: ReferenceHooks {
    private func parts(ofItem item: Int) -> [Composition] { compositions[itemComposition[item]].parts }

    public func projectionInput(layer: Int, site: ProjectionSite, item: Int, _ x: inout [Double]) {
        let site = LoRASite(layer: layer, projection: site)
        for case .ia3(let adapter) in parts(ofItem: item) {
            guard let vector = adapter.vectors[site], vector.scalesInput else { continue }
            vector.reference(&x, rows: x.count / vector.scale.count)
        }
    }

    public func projectionOutput(layer: Int, site: ProjectionSite, item: Int, input x: [Double], _ y: inout [Double]) {
        let site = LoRASite(layer: layer, projection: site)
        for part in parts(ofItem: item) {
            switch part {
            case .lora(let adapter):
                guard let module = adapter.modules[site] else { continue }
                module.reference(input: x, rows: x.count / module.inFeatures, output: &y)
            case .ia3(let adapter):
                guard let vector = adapter.vectors[site], !vector.scalesInput else { continue }
                vector.reference(&y, rows: y.count / vector.scale.count)
            default:
                continue
            }
        }
    }

    public func attentionPrefix(layer: Int, item: Int) -> (keys: [Double], values: [Double])? {
        for case .prefixTuning(let adapter) in parts(ofItem: item) {
            guard let prefix = adapter.layers[layer] else { return nil }
            return (prefix.keys.array.map(Double.init), prefix.values.array.map(Double.init))
        }
        return nil
    }

    public func sublayerOutput(
        layer: Int, location: SublayerLocation, item: Int, projected: [Double], residual: [Double],
        norm: LayerNormWeights
    ) -> [Double]? {
        let site = AdapterSite(layer: layer, location: location)
        guard let part = parts(ofItem: item).first(where: { $0.replaces(site) }) else { return nil }
        let rows = projected.count / norm.size
        switch part {
        case .bottleneck(let adapter):
            return BottleneckAdapter.referenceStack(
                [adapter], at: site, projected: projected, residual: residual, norm: norm, rows: rows)
        case .stack(let adapters):
            return BottleneckAdapter.referenceStack(
                adapters, at: site, projected: projected, residual: residual, norm: norm, rows: rows)
        default:
            preconditionFailure("BertEncoder.Reference has no reference for \(part) at \(site)")
        }
    }
}
