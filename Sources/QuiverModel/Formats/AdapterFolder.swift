import Foundation
import QuiverTensor

/// An adapter in one of the ecosystem's layouts, of any kind, read once from its files (a folder on disk or a stored
/// version's blobs):
/// - the `adapters` library: `adapter_config.json` (an inner `config` whose `architecture` is `bottleneck`, `lora`,
///   `prefix_tuning`, `prompt_tuning`, `union`, `reft`…) + `adapter.safetensors` or `pytorch_adapter.bin`, optionally
///   `head_config.json` + `model_head.safetensors` or `pytorch_model_head.bin`;
/// - PEFT, every `peft_type`: `adapter_config.json` + `adapter_model.safetensors` or `adapter_model.bin`;
/// - either of these plus `quiver.json` (a Quiver export's metadata).
///
/// PyTorch files are converted and kept under the safetensors name. Counts are exact from the tensors: the tuner's
/// tensors are `parameters`; heads — the `adapters` head file, PEFT's `modules_to_save` — are `headParameters`.
public struct AdapterFolder: Sendable {
    public static let exportFileName = "quiver.json"

    /// Every file name a stored adapter may have (PyTorch files are stored under these names).
    package static let fileNames: Set = ["adapter_config.json", "adapter.safetensors", "adapter_model.safetensors", "head_config.json", "model_head.safetensors"]

    public var source: String
    public var format: ArtifactFormat
    public var architecture: AdapterKind
    public var files: [FolderFile]
    public var parameters: Int
    public var headParameters: Int
    public var labels: [String]
    /// Metadata of a Quiver export (`quiver.json`), when present.
    public var export: ArtifactConfig?
    /// Nil when this build's engine runs the adapter (on a base it runs), else why not, in one line.
    public var engineNote: String?
    /// The `adapters` library's record of the base: `hidden_size` and `model_type`, when present.
    public var hiddenSize: Int?
    public var modelType: String?
    /// What a PEFT config says (nil for the `adapters` library).
    public var peft: PEFTConfig?
    /// The kind's typed configuration, when this build's engine runs the adapter.
    public var engineConfig: (any EncoderAdapterConfig)?
    public var head: HeadConfig?

    public init(path: String) throws {
        try self.init(files: .folder(path))
    }

    public init(files: ArtifactFiles) throws {
        source = files.source
        guard files.exists("adapter_config.json") else {
            throw QuiverError(.invalidInput, "\(source): missing adapter_config.json (expected an `adapters` or PEFT adapter folder)")
        }
        let configFile = try files.bytes("adapter_config.json", role: .adapterConfig, limit: 1 << 20)
        let configPath = files.location("adapter_config.json")
        let config = try files.json("adapter_config.json")
        guard config.objectValue != nil else { throw QuiverError(.invalidInput, "\(configPath): not a JSON object") }
        labels = []
        if config["peft_type"] != nil {
            format = .peft
            let peft = try PEFTConfig(json: config, source: configPath)
            self.peft = peft
            architecture = peft.kind
            let weights = try files.tensors("adapter_model.safetensors", legacy: "adapter_model.bin", role: .adapterWeights)
            self.files = [configFile, weights]
            var tuner = 0, head = 0
            let tied = weights.tied
            for tensor in weights.safetensors!.header.tensors where !tied.contains(tensor.name) {
                if peft.isHead(tensor.name) { head += tensor.elementCount } else { tuner += tensor.elementCount }
            }
            parameters = tuner
            headParameters = head
            // PEFT saves no label names: a classifier's labels are transformers' defaults, LABEL_0…
            if let classifier = weights.safetensors!.header.tensors.first(where: { tensor in
                peft.isHead(tensor.name) && tensor.shape.count == 2
                    && [".classifier.weight", ".classifier.out_proj.weight", ".score.weight"].contains { tensor.name.hasSuffix($0) }
            }), classifier.shape[0] <= HeadConfig.maximumLabels {
                labels = (0..<classifier.shape[0]).map { "LABEL_\($0)" }
            }
            (engineConfig, engineNote) = Self.peftEngineConfig(peft, configPath: configPath, config: config, weights: weights)
        } else {
            format = .adapters
            guard let inner = config["config"], inner.objectValue != nil else {
                throw QuiverError(.invalidInput, "\(configPath): missing \"config\" object (not an `adapters` library adapter_config.json)")
            }
            hiddenSize = config["hidden_size"]?.intValue
            modelType = config["model_type"]?.stringValue
            (architecture, engineConfig, engineNote) = try Self.libraryKind(inner, configPath: configPath)
            let weights = try files.tensors("adapter.safetensors", legacy: "pytorch_adapter.bin", role: .adapterWeights)
            self.files = [configFile, weights]
            parameters = weights.parameterCount
            headParameters = 0
            if let saved = try files.head() {
                do {
                    head = try HeadConfig(json: saved.json, source: files.location("head_config.json"))
                    labels = head!.labels
                } catch let error as QuiverError where error.kind == .unsupported {
                    engineNote = engineNote ?? error.message  // a head of another type: stored, not run
                }
                self.files += [saved.config, saved.weights]
                headParameters = saved.weights.parameterCount
            }
        }
        if files.exists(Self.exportFileName) {
            export = try StrictJSON.decode(
                ArtifactConfig.self, from: try files.read(Self.exportFileName, limit: 1 << 20), source: files.location(Self.exportFileName),
                what: "Quiver export")
        }
    }

    /// The kind an `adapters`-library config describes, and its typed configuration when the engine runs it (else
    /// why not).
    private static func libraryKind(
        _ inner: JSONValue, configPath: String
    ) throws -> (AdapterKind, (any EncoderAdapterConfig)?, String?) {
        /// The kind with what `parse` returns; a feature the engine lacks becomes the note, bad input stays an error.
        func engine(_ kind: AdapterKind, _ parse: () throws -> any EncoderAdapterConfig) throws -> (AdapterKind, (any EncoderAdapterConfig)?, String?) {
            do {
                return (kind, try parse(), nil)
            } catch let error as QuiverError where error.kind == .unsupported {
                return (kind, nil, error.message)
            }
        }
        let name = inner["architecture"]?.stringValue ?? "bottleneck"
        switch name {
        case "bottleneck":
            let attention = inner["mh_adapter"]?.boolValue ?? false, output = inner["output_adapter"]?.boolValue ?? true
            let kind: AdapterKind =
                if inner["is_parallel"]?.boolValue == true { .parBn }
                else if inner["phm_layer"]?.boolValue == true { .compacter }
                else { attention ? (output ? .doubleSeqBn : .bottleneck) : (output ? .seqBn : .bottleneck) }
            return try engine(kind) { try BottleneckConfig(json: inner, source: configPath) }
        case "lora" where inner["composition_mode"]?.stringValue == "scale":
            return try engine(.ia3) { try IA3Config(adaptersJSON: inner, source: configPath) }
        case "lora" where inner["vera_d"].map { !$0.isNull } ?? false:
            return (.vera, nil, "vera (adapters): stored and distributed; this build's engine does not run it")
        case "lora":
            return try engine(.lora) { try LoRAConfig(adaptersJSON: inner, source: configPath) }
        case "prefix_tuning":
            return try engine(.prefixTuning) { try PrefixTuningConfig(json: inner, source: configPath) }
        default:
            let kind: AdapterKind = switch name {
            case "prompt_tuning": .promptTuning
            case "union": .union
            case "reft": .reft
            default: .other(name)
            }
            return (kind, nil, "\(kind) (adapters): stored and distributed; this build's engine does not run it")
        }
    }

    /// The typed configuration of a PEFT adapter the engine runs, else why it does not.
    private static func peftEngineConfig(
        _ peft: PEFTConfig, configPath: String, config: JSONValue, weights: FolderFile
    ) -> ((any EncoderAdapterConfig)?, String?) {
        let tensors = weights.safetensors!.header.tensors
        if [.lora, .ia3].contains(peft.kind), tensors.contains(where: { peft.isHead($0.name) }),
            let hidden = config["hidden_size"]?.intValue ?? tensors.first(where: { $0.name.hasSuffix(".classifier.weight") || $0.name.hasSuffix(".classifier.out_proj.weight") })?.shape.last,
            let problem = ClassificationHead.peftClassifierProblem(tensors, peft: peft, hiddenSize: hidden)
        {
            return (nil, "\(peft.kind) (PEFT): \(problem)")
        }
        func parsed(_ parse: () throws -> any EncoderAdapterConfig) -> ((any EncoderAdapterConfig)?, String?) {
            do {
                return (try parse(), nil)
            } catch {
                return (nil, (error as? QuiverError)?.message ?? "\(error)")
            }
        }
        switch peft.kind {
        case .lora:
            // LoRA on the pooler leaves hidden states alone but changes a classifier's logits: with a head, not run.
            if tensors.contains(where: { peft.isHead($0.name) }),
                let pooler = tensors.compactMap({ TunerTensor.parse($0.name, kind: .lora) }).first(where: { $0.module.hasSuffix("pooler.dense") })
            {
                return (nil, "lora (PEFT) on \(pooler.module) under a classifier: stored and distributed; this build's engine runs LoRA on encoder layer projections only")
            }
            return parsed { try LoRAConfig(peftJSON: config, source: configPath) }
        case .ia3:
            // A vector outside the encoder's layers (the pooler, a classifier's dense) changes what this build would
            // compute without it: stored, not run.
            for tensor in tensors where !peft.isHead(tensor.name) {
                if let tuner = TunerTensor.parse(tensor.name, kind: .ia3), EncoderFamily.projectionSite(ofModule: tuner.module) == nil {
                    return (nil, "ia3 (PEFT) on \(tuner.module): stored and distributed; this build's engine runs IA³ on encoder layer projections only")
                }
            }
            return parsed { try IA3Config(peftJSON: config, source: configPath) }
        case .other(let name):
            return (nil, "peft_type \(peft.peftType): stored as opaque with exact counts; this build does not know \(name)'s layout")
        default:
            return (nil, "\(peft.kind) (PEFT): stored and distributed; this build's engine does not run it")
        }
    }

    // MARK: - Validation against a base model

    /// Notes on a push that are not errors: the base this adapter says it was made for is another one.
    public func warnings(baseName: String) -> [String] {
        guard let named = peft?.baseModelName, !named.isEmpty else { return [] }
        let last = named.split(separator: "/").last.map(String.init) ?? named
        return last == baseName || named == baseName
            ? [] : ["\(source): made for base_model_name_or_path \"\(named)\", pushed on base model '\(baseName)'"]
    }

    /// Checks every tensor against the base: the module it adapts exists and its shape fits, layer indices are in
    /// range, sizes match the hidden size. The first tensor that does not fit is named. A kind the engine runs is
    /// loaded too: what this build does not run of it becomes the engine note.
    public mutating func checkCompatibility(with base: BaseShapes, baseName: String) throws {
        let hidden = base.config.hiddenSize
        if let hiddenSize, hidden > 0, hiddenSize != hidden {
            throw QuiverError(.incompatible, "\(source): adapter hidden_size \(hiddenSize) does not match base model '\(baseName)' (hidden size \(hidden))")
        }
        if let modelType, modelType != base.config.modelType {
            throw QuiverError(.incompatible, "\(source): adapter was made for model_type \"\(modelType)\", base model '\(baseName)' is \"\(base.config.modelType)\"")
        }
        if let peft, [.prefixTuning, .promptTuning, .pTuning, .multitaskPromptTuning].contains(peft.kind) {
            let tensors = files.compactMap(\.safetensors).flatMap(\.header.tensors).map { (name: $0.name, shape: $0.shape) }
            if let problem = try PromptLearning(peft, source: source + "/adapter_config.json").problem(base: base, tensors: tensors) {
                throw QuiverError(.incompatible, "\(source): does not fit base model '\(baseName)': \(problem)")
            }
        }
        var factors = KroneckerFactors()
        for file in files {
            guard let tensors = file.safetensors else { continue }
            for tensor in tensors.header.tensors {
                let location = "\(source)/\(file.name): tensor '\(tensor.name)'"
                if let problem = try problem(tensor, role: file.role, base: base, factors: &factors, location: location) {
                    throw QuiverError(.incompatible, "\(location) does not fit base model '\(baseName)': \(problem)")
                }
            }
        }
        if let (module, problem) = factors.problem(base: base) {
            throw QuiverError(.incompatible, "\(source): LoKr factors of \(module) do not fit base model '\(baseName)': \(problem)")
        }
        try checkEngineShapes(base: base, baseName: baseName)
    }

    /// A kind the engine runs is also loaded the way the engine loads it, so that a version stored as runnable runs:
    /// a prefix's width depends on the base's layers and hidden size together, an IA³ vector's form on the config.
    /// What this build does not run of it becomes the engine note.
    private mutating func checkEngineShapes(base: BaseShapes, baseName: String) throws {
        guard let bert = base.bert, let engineConfig, let weights = files.first(where: { $0.role == .adapterWeights })?.safetensors
        else { return }
        do {
            _ = try engineConfig.adapter(weights: weights, base: bert)
        } catch let error as QuiverError where error.kind == .invalidInput {
            throw QuiverError(.incompatible, "\(error.message) (base model '\(baseName)')")
        } catch let error as QuiverError where error.kind == .unsupported {
            self.engineConfig = nil
            engineNote = engineNote ?? error.message
        }
    }

    private func problem(_ tensor: TensorInfo, role: FileRole, base: BaseShapes, factors: inout KroneckerFactors, location: String) throws -> String? {
        if let layer = Self.layerIndex(tensor.name), base.config.layerCount > 0, layer >= base.config.layerCount {
            return "it is for layer \(layer), the base has \(base.config.layerCount) layers"
        }
        if let peft, peft.isHead(tensor.name) { return nil }  // a module saved whole (classifier…): the task's, not the base's
        let parsed = AdapterTensor.parse(tensor.name)
        if role == .headWeights {
            guard case .head = parsed else { throw QuiverError(.invalidInput, "\(location) is not a head tensor") }
            return parsed!.shapeProblem(tensor.shape, hidden: base.config.hiddenSize)
        }
        if format == .adapters, [.seqBn, .doubleSeqBn, .bottleneck].contains(architecture), !tensor.name.contains(".invertible_adapters.") {
            guard case .bottleneck = parsed else { throw QuiverError(.invalidInput, "\(location) is not a \(architecture) adapter tensor") }
            return parsed!.shapeProblem(tensor.shape, hidden: base.config.hiddenSize)
        }
        guard let tuner = TunerTensor.parse(tensor.name, kind: architecture) else {
            if format == .adapters, architecture == .lora { throw QuiverError(.invalidInput, "\(location) is not a lora adapter tensor") }
            if case .bottleneck? = parsed { return parsed!.shapeProblem(tensor.shape, hidden: base.config.hiddenSize) }
            return nil
        }
        guard !tuner.module.isEmpty else { return nil }  // shared across modules (VeRA's projections)
        guard let weight = base.shape(ofModule: tuner.module) ?? base.shape(ofModule: tuner.module, parameter: "bias") else {
            return base.hasModule(tuner.module) ? nil : "module \(tuner.module) is not in the base"
        }
        if tuner.marker.hasPrefix("lokr_") { factors.add(tuner, shape: tensor.shape) }
        let transposed = peft?.json["fan_in_fan_out"]?.boolValue == true
        let feedforward = peft?.feedforwardModules.map { modules in modules.contains { tuner.module == $0 || tuner.module.hasSuffix("." + $0) } }
        return tuner.shapeProblem(tensor.shape, weight: weight, transposed: transposed, feedforward: feedforward)
    }

    /// Compiled once (a regex literal is parsed again each time it is evaluated).
    nonisolated(unsafe) private static let layerPattern = /(?:^|\.)(?:layer|layers|h|block)\.(\d{1,9})\./

    /// The encoder layer a tensor belongs to, from `…layer.3.…`, `…layers.3.…`, `…h.3.…` or `…block.3.…`.
    static func layerIndex(_ name: String) -> Int? {
        name.firstMatch(of: layerPattern).flatMap { Int($0.1) }
    }
}

/// LoKr's factors of each module: the Kronecker product of the left and right factors must be the module's weight.
private struct KroneckerFactors {
    /// Module → marker → shape.
    private var shapes: [String: [String: [Int]]] = [:]

    mutating func add(_ tensor: TunerTensor, shape: [Int]) { shapes[tensor.module, default: [:]][tensor.marker] = shape }

    /// The first module whose factors do not multiply to its weight's shape.
    func problem(base: BaseShapes) -> (String, String)? {
        func side(_ factors: [String: [Int]], _ index: Int) -> (Int, Int)? {
            if let whole = factors["lokr_w\(index)"], whole.count == 2 { return (whole[0], whole[1]) }
            if let a = factors["lokr_w\(index)_a"], let b = factors["lokr_w\(index)_b"], a.count == 2, b.count == 2 { return (a[0], b[1]) }
            return nil
        }
        for module in shapes.keys.sorted() {
            guard let weight = base.shape(ofModule: module), weight.count == 2,
                let left = side(shapes[module]!, 1), let right = side(shapes[module]!, 2)
            else { continue }
            let rows = left.0.multipliedReportingOverflow(by: right.0), columns = left.1.multipliedReportingOverflow(by: right.1)
            if rows.overflow || columns.overflow || rows.partialValue != weight[0] || columns.partialValue != weight[1] {
                return (module, "(\(left.0)·\(right.0)) × (\(left.1)·\(right.1)) ≠ the weight's \(weight)")
            }
        }
        return nil
    }
}
