// AdapterFusion's tensors: `{prefix}encoder.layer.L.{attention.output|output}.adapter_fusion_layer.NAMES.{query|key|value|dense}.{weight|bias}`.

extension AdapterTensor {
    /// Compiled once (a regex literal is parsed again each time it is evaluated).
    nonisolated(unsafe) private static let fusionPattern = /([^.]+)\.(query|key|value|dense)\.(weight|bias)/

    static func parseFusion(layer: Int, _ tail: Substring, _ spelling: EncoderFamily) -> AdapterTensor? {
        for location in [BottleneckLocation.attentionOutput, .output] {
            let module = spelling.adapterModule(location) + ".adapter_fusion_layer."
            guard tail.hasPrefix(module),
                let match = tail.dropFirst(module.count).wholeMatch(of: fusionPattern)
            else { continue }
            return .fusion(layer: layer, location: location, fusion: String(match.1), projection: FusionProjection(rawValue: String(match.2))!,
                           parameter: String(match.3))
        }
        return nil
    }

    static func fusionShapeProblem(_ projection: FusionProjection, _ parameter: String, _ shape: [Int], hidden h: Int) -> String? {
        let expected = projection == .dense ? (parameter == "weight" ? [1, h] : [1]) : (parameter == "weight" ? [h, h] : [h])
        return shape == expected ? nil : "shape \(shape) does not fit hidden size \(h)"
    }
}
