// Fuzz target: the configuration files of adapter folders, fusions and heads (adapter_config.json in the
// `adapters` and PEFT layouts, adapter_fusion_config.json, head_config.json, config.json of a base model) and
// the tensor-name table that reads safetensors names.
// Built into module QuiverModel (its formats layer) by scripts/fuzz.sh; see docs/fuzzing.md.

import Foundation
import QuiverTensor

/// Results are added here so that the optimiser cannot drop the computations (and their checks) that produce them.
nonisolated(unsafe) public var fuzzSink = 0

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigs(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    // (quiver.json exports and manifest config blobs go through Foundation's decoder: the manifest target.)
    guard let json = try? JSONParser.parse(bytes) else { return 0 }
    let source = "fuzz.json"
    // What AdapterFolder and FusionFolder do with a parsed file, on the whole document and on its "config".
    for candidate in [json, json["config"] ?? .null] {
        if let config = try? BottleneckConfig(json: candidate, source: source) {
            for layer in [0, 1, 11] { fuzzSink &+= config.bottleneckSize(layer: layer, hiddenSize: 768) }
            _ = config.architecture
        }
        _ = try? LoRAConfig(adaptersJSON: candidate, source: source)
        _ = try? LoRAConfig(peftJSON: candidate, source: source)
        _ = try? FusionConfig(json: candidate, source: source)
        _ = try? BertConfig(json: candidate, source: source)
        if let model = try? ModelConfig(json: candidate, source: source) { fuzzSink &+= model.hiddenSize &+ model.layerCount }
        if let peft = try? PEFTConfig(json: candidate, source: source) {
            fuzzSink &+= peft.modulesToSave.count
            let shapes = BaseShapes(config: (try? ModelConfig(json: .object([("model_type", .string("bert")), ("hidden_size", .integer(8)), ("num_hidden_layers", .integer(2))]), source: source))!, bert: nil, tensors: [:], engineNote: nil)
            _ = (try? PromptLearning(peft, source: source))?.problem(base: shapes, tensors: [("prompt_embeddings", [3, 8])])
        }
    }
    if let head = try? HeadConfig(json: json, source: source) { fuzzSink &+= head.labels.count }
    // Tensor names arrive in safetensors headers: every string in the document is tried as one.
    var strings: [String] = []
    func collect(_ value: JSONValue) {
        switch value {
        case .string(let text): strings.append(text)
        case .array(let elements): elements.forEach(collect)
        case .object(let members): for member in members { strings.append(member.key); collect(member.value) }
        default: break
        }
    }
    collect(json)
    let hidden = json["hidden"]?.intValue ?? 768
    for name in strings {
        if let tensor = AdapterTensor.parse(name) {
            _ = tensor.layer
            _ = tensor.shapeProblem([1, 2], hidden: hidden)
        }
        for kind in [AdapterKind.lora, .ia3, .lokr, .vera, .other(name)] {
            if let tuner = TunerTensor.parse(name, kind: kind) {
                _ = tuner.shapeProblem([4, hidden], weight: [hidden, hidden], transposed: false, feedforward: nil)
            }
        }
        _ = AdapterKind(rawValue: name).rawValue
        _ = try? Digest(parsing: name)
    }
    return 0
}
