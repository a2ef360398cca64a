import QuiverModel


/// Builds the trainable model of a recipe on a base model: the `adapters` library's presets, fresh weights from the
/// run's seed, a new two-layer classification head over the training data's labels.
enum TrainableModels {
    static func adapter(
        _ recipe: AdapterRecipe, base: BaseModel, task: String, labels: [String], seed: UInt64
    ) throws -> any TrainableModel {
        switch recipe.architecture {
        case .seqBn, .doubleSeqBn:
            guard let config = BottleneckConfig.preset(recipe.architecture.rawValue) else {
                throw QuiverError(.unsupported, "no preset for \(recipe.architecture.rawValue)")
            }
            return try TrainableTask.bottleneck(
                name: task, config: config, reductionFactor: Double(recipe.reductionFactor), labels: labels,
                base: base.encoder, baseName: base.name, seed: seed)
        case .lora:
            return try TrainableTask.lora(
                name: task, rank: recipe.rank, alpha: recipe.alpha, labels: labels, base: base.encoder, baseName: base.name,
                seed: seed)
        }
    }

    static func fusion(
        _ recipe: FusionRecipe, members: [(name: String, adapter: BottleneckAdapter)], base: BaseModel, task: String,
        labels: [String], seed: UInt64
    ) throws -> any TrainableModel {
        guard let config = FusionConfig.preset(recipe.kind.rawValue) else {
            throw QuiverError(.unsupported, "no fusion preset '\(recipe.kind.rawValue)'")
        }
        return try TrainableTask.fusion(
            members: members, config: config, labels: labels, base: base.encoder, baseName: base.name,
            unfreezeMembers: recipe.unfreezeMembers, seed: seed)
    }
}
