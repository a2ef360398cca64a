/// PEFT's prompt-learning methods (prompt tuning, p-tuning, prefix tuning, multitask prompt tuning): the sizes
/// their config states, checked against the base and against the saved `prompt_embeddings`.
struct PromptLearning {
    var virtualTokens: Int
    var tokenDimension: Int
    var submodules: Int
    var layers: Int
    /// Prefix tuning saves the per-layer keys and values themselves (PEFT runs `prefix_projection`'s encoder before
    /// saving and keeps only its output).
    var savesLayerStates: Bool

    init(_ config: PEFTConfig, source: String) throws {
        func size(_ key: String, default value: Int) throws -> Int {
            guard let field = config.json[key], !field.isNull else { return value }
            guard let number = field.intValue, number >= 0, number <= ModelConfig.maximumSize else {
                throw QuiverError(.invalidInput, "\(source): \"\(key)\" must be an integer in 0…\(ModelConfig.maximumSize)")
            }
            return number
        }
        virtualTokens = try size("num_virtual_tokens", default: 0)
        tokenDimension = try size("token_dim", default: 0)
        submodules = try size("num_transformer_submodules", default: 1)
        layers = try size("num_layers", default: 0)
        savesLayerStates = config.kind == .prefixTuning
    }

    /// Why this does not fit `base`, naming the field or tensor; nil when it does.
    func problem(base: BaseShapes, tensors: [(name: String, shape: [Int])]) -> String? {
        if savesLayerStates || layers > 0, base.config.layerCount > 0, layers != base.config.layerCount {
            return "num_layers \(layers) ≠ the base's \(base.config.layerCount) layers"
        }
        if !savesLayerStates, tokenDimension > 0, base.config.hiddenSize > 0, tokenDimension != base.config.hiddenSize {
            return "token_dim \(tokenDimension) ≠ the base's hidden size \(base.config.hiddenSize)"
        }
        guard let embeddings = tensors.first(where: { $0.name.split(separator: ".").last == "prompt_embeddings" }) else { return nil }
        let (rows, width) = (virtualTokens.multipliedReportingOverflow(by: submodules), layers.multipliedReportingOverflow(by: 2 * tokenDimension))
        guard !rows.overflow, !width.overflow else { return "num_virtual_tokens, token_dim or num_layers is too large" }
        let expected = [rows.partialValue, savesLayerStates ? width.partialValue : tokenDimension]
        return embeddings.shape == expected ? nil : "tensor '\(embeddings.name)' has shape \(embeddings.shape), the config implies \(expected)"
    }
}
