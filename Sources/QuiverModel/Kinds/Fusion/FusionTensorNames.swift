// AdapterFusion's tensors: `{prefix}encoder.layer.L.{attention.output|output}.adapter_fusion_layer.NAMES.{query|key|value|dense}.{weight|bias}`.

extension AdapterTensor {
    static func parseFusion(layer: Int, _ tail: Substring) -> AdapterTensor? {
        guard let match = tail.wholeMatch(of: /(attention\.output|output)\.adapter_fusion_layer\.([^.]+)\.(query|key|value|dense)\.(weight|bias)/) else {
            return nil
        }
        return .fusion(layer: layer, location: BottleneckLocation(rawValue: String(match.1))!, fusion: String(match.2),
                       projection: FusionProjection(rawValue: String(match.3))!, parameter: String(match.4))
    }

    static func fusionShapeProblem(_ projection: FusionProjection, _ parameter: String, _ shape: [Int], hidden h: Int) -> String? {
        let expected = projection == .dense ? (parameter == "weight" ? [1, h] : [1]) : (parameter == "weight" ? [h, h] : [h])
        return shape == expected ? nil : "shape \(shape) does not fit hidden size \(h)"
    }
}
