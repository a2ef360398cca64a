import QuiverTensor

/// Compositions in `BertEncoder.Reference`: each kind's slow twin, item by item, so every fast hook has a Double
/// reference to be tested against. Fusions and `Average` have none (their parity is checked against the library's
/// fixtures only); a reference pass over them stops.
extension CompositionHooks: ReferenceHooks {
    public func projectionInput(layer: Int, site: ProjectionSite, item: Int, _ x: inout [Double]) {
        let site = LoRASite(layer: layer, projection: site)
        for adapter in adapters[itemComposition[item]] where adapter.scalesInput(of: site) {
            adapter.referenceInput(of: site, &x)
        }
    }

    public func projectionOutput(layer: Int, site: ProjectionSite, item: Int, input x: [Double], _ y: inout [Double]) {
        let site = LoRASite(layer: layer, projection: site)
        for adapter in adapters[itemComposition[item]] { adapter.referenceOutput(of: site, input: x, &y) }
    }

    public func attentionPrefix(layer: Int, item: Int) -> (keys: [Double], values: [Double])? {
        for adapter in adapters[itemComposition[item]] {
            if let prefix = adapter.attentionPrefix(layer: layer) {
                return (prefix.keys.array.map(Double.init), prefix.values.array.map(Double.init))
            }
        }
        return nil
    }

    public func sublayerOutput(
        layer: Int, location: SublayerLocation, item: Int, projected: [Double], residual: [Double],
        norm: LayerNormWeights
    ) -> [Double]? {
        let site = AdapterSite(layer: layer, location: location)
        guard let part = compositions[itemComposition[item]].parts.first(where: { $0.replaces(site) }) else { return nil }
        let reference: [Double]? =
            switch part {
            case .adapter(let adapter):
                adapter.referenceSublayerOutput(at: site, projected: projected, residual: residual, norm: norm)
            case .stack(let adapters):
                BottleneckAdapter.referenceStack(
                    adapters, at: site, projected: projected, residual: residual, norm: norm, rows: projected.count / norm.size)
            default: nil
            }
        guard let reference else { preconditionFailure("BertEncoder.Reference has no reference for \(part) at \(site)") }
        return reference
    }
}
