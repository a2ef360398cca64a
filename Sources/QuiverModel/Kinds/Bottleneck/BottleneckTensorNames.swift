// A bottleneck adapter's tensors: `{prefix}encoder.layer.L.{attention.output|output}.adapters.NAME.COMPONENT`
// (DistilBERT: `{prefix}transformer.layer.L.{attention_adapters|output_adapters}.adapters.NAME.COMPONENT`).

extension AdapterTensor {
    /// Compiled once (a regex literal is parsed again each time it is evaluated).
    nonisolated(unsafe) private static let bottleneckPattern = /([^.]+)\.(.+)/

    static func parseBottleneck(layer: Int, _ tail: Substring, _ spelling: EncoderFamily) -> AdapterTensor? {
        for location in [BottleneckLocation.attentionOutput, .output] {
            let module = spelling.adapterModule(location) + ".adapters."
            guard tail.hasPrefix(module), let match = tail.dropFirst(module.count).wholeMatch(of: bottleneckPattern) else { continue }
            return .bottleneck(layer: layer, location: location, adapter: String(match.1), component: String(match.2))
        }
        return nil
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
