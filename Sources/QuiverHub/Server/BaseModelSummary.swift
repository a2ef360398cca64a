import QuiverStore

/// One base model as `GET /api/bases` answers it — the objects of `quiver base list --json`.
struct BaseModelSummary: Encodable, Sendable {
    var name, modelType, digest: String
    var layers, hiddenSize, parameters, size, storedSize: Int

    init(_ row: BaseModelRow) {
        name = row.name
        modelType = row.modelType
        digest = row.digest
        layers = row.layerCount
        hiddenSize = row.hiddenSize
        parameters = row.parameters
        size = row.size
        storedSize = row.storedSize
    }

    enum CodingKeys: String, CodingKey {
        case name, digest, layers, parameters, size
        case modelType = "model_type"
        case hiddenSize = "hidden_size"
        case storedSize = "stored_size"
    }
}
