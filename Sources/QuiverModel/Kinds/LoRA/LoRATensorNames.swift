// LoRA's tensors: `{prefix}encoder.layer.L.TARGET.loras.NAME.lora_{A|B}` (`adapters`) or
// `base_model.model.{prefix}encoder.layer.L.TARGET.lora_{A|B}[.NAME].weight` (PEFT).

extension AdapterTensor {
    /// Compiled once (a regex literal is parsed again each time it is evaluated).
    nonisolated(unsafe) private static let adaptersLoRAPattern = /loras\.([^.]+)\.lora_(A|B)/
    nonisolated(unsafe) private static let peftLoRAPattern = /lora_(A|B)(?:\.[^.]+)?\.weight/

    static func parseLoRA(layer: Int, _ tail: Substring, _ spelling: EncoderFamily) -> AdapterTensor? {
        for target in LoRATarget.allCases {
            let module = spelling.projectionModule(target) + "."
            guard tail.hasPrefix(module) else { continue }
            let rest = tail.dropFirst(module.count)
            if let match = rest.wholeMatch(of: adaptersLoRAPattern) {
                return .lora(layer: layer, target: target, adapter: String(match.1), matrix: LoRAMatrix(rawValue: String(match.2))!)
            }
            if let match = rest.wholeMatch(of: peftLoRAPattern) {
                return .lora(layer: layer, target: target, adapter: nil, matrix: LoRAMatrix(rawValue: String(match.1))!)
            }
        }
        return nil
    }
}
