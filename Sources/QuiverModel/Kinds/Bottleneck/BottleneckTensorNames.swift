// A bottleneck adapter's tensors: `{prefix}encoder.layer.L.{attention.output|output}.adapters.NAME.COMPONENT`.

extension AdapterTensor {
    static func parseBottleneck(layer: Int, _ tail: Substring) -> AdapterTensor? {
        guard let match = tail.wholeMatch(of: /(attention\.output|output)\.adapters\.([^.]+)\.(.+)/) else { return nil }
        return .bottleneck(layer: layer, location: BottleneckLocation(rawValue: String(match.1))!, adapter: String(match.2), component: String(match.3))
    }

    /// Down projections read the hidden state, up projections write it; norms and channel scaling act on it. The
    /// bottleneck width is free.
    static func bottleneckShapeProblem(component: String, _ shape: [Int], hidden h: Int) -> String? {
        if component.hasPrefix("adapter_down"), component.hasSuffix(".weight"), shape.count == 2 {
            return shape[1] == h ? nil : "input size \(shape[1]) ≠ hidden size \(h)"
        }
        if component == "adapter_up.weight" {
            return shape.count == 2 && shape[0] == h ? nil : "shape \(shape) does not produce hidden size \(h)"
        }
        if component == "adapter_up.bias" || component.hasPrefix("adapter_norm") {
            return shape == [h] ? nil : "shape \(shape) ≠ [\(h)]"
        }
        return nil
    }
}
