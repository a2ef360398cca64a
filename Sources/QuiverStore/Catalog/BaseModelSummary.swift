import Foundation
import QuiverModel

/// One base model as `quiver base list --json` and `GET /api/bases` print it.
public struct BaseModelSummary: Encodable, Sendable {
    public var name, modelType, digest, dtype: String
    public var architectures: [String]
    public var layers, hiddenSize, parameters, size, storedSize: Int
    /// Whether this build's engine runs it; when not, `engineNote` says why.
    public var runnable: Bool
    public var engineNote: String?

    public init(_ row: BaseModelRow) {
        name = row.name
        modelType = row.modelType
        digest = row.digest
        layers = row.layerCount
        hiddenSize = row.hiddenSize
        parameters = row.parameters
        size = row.size
        storedSize = row.storedSize
        dtype = row.dtype
        architectures = (try? JSONDecoder().decode([String].self, from: Data(row.architectures.utf8))) ?? []
        runnable = row.runnable
        engineNote = row.engineNote
    }

    enum CodingKeys: String, CodingKey {
        case name, digest, layers, parameters, size, dtype, architectures, runnable
        case engineNote = "engine_note"
        case modelType = "model_type"
        case hiddenSize = "hidden_size"
        case storedSize = "stored_size"
    }
}
