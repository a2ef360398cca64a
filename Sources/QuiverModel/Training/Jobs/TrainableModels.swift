import QuiverStore

/// Builds the trainable models of the backward passes for a recipe. (Wired when branch `backward` lands.)
enum TrainableModels {
    static func adapter(
        _ recipe: AdapterRecipe, base: BaseModel, task: String, labels: [String], seed: UInt64
    ) throws -> any TrainableModel {
        throw QuiverError(.unsupported, "training \(recipe.architecture.rawValue) adapters needs the backward passes")
    }

    static func fusion(
        _ recipe: FusionRecipe, members: [(name: String, adapter: BottleneckAdapter)], base: BaseModel, task: String,
        labels: [String], seed: UInt64
    ) throws -> any TrainableModel {
        throw QuiverError(.unsupported, "training a fusion needs the backward passes")
    }
}
