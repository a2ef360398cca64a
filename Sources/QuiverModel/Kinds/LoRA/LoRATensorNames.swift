// LoRA's tensors: `{prefix}encoder.layer.L.TARGET.loras.NAME.lora_{A|B}` (`adapters`) or
// `base_model.model.{prefix}encoder.layer.L.TARGET.lora_{A|B}[.NAME].weight` (PEFT).

extension AdapterTensor {
    static func parseLoRA(layer: Int, _ tail: Substring) -> AdapterTensor? {
        if let match = tail.wholeMatch(of: /(attention\.self\.query|attention\.self\.key|attention\.self\.value|attention\.output\.dense|intermediate\.dense|output\.dense)\.loras\.([^.]+)\.lora_(A|B)/) {
            return .lora(layer: layer, target: LoRATarget(rawValue: String(match.1))!, adapter: String(match.2), matrix: LoRAMatrix(rawValue: String(match.3))!)
        }
        if let match = tail.wholeMatch(of: /(attention\.self\.query|attention\.self\.key|attention\.self\.value|attention\.output\.dense|intermediate\.dense|output\.dense)\.lora_(A|B)(?:\.[^.]+)?\.weight/) {
            return .lora(layer: layer, target: LoRATarget(rawValue: String(match.1))!, adapter: nil, matrix: LoRAMatrix(rawValue: String(match.2))!)
        }
        return nil
    }
}
