/// One base model as `quiver base list --json` and `GET /api/bases` print it.
public struct BaseModelSummary: Encodable, Sendable {
    public var name, modelType, digest: String
    public var layers, hiddenSize, parameters, size, storedSize: Int

    public init(_ row: BaseModelRow) {
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
