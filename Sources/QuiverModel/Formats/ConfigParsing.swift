import QuiverTensor

// Fields every kind's configuration parses the same way.

func parseLeaveOut(_ config: JSONValue, source: String) throws -> Set<Int> {
    guard let field = config["leave_out"], !field.isNull else { return [] }
    guard let values = field.arrayValue else { throw QuiverError(.invalidInput, "\(source): \"leave_out\" must be a list of layer indices") }
    var layers = Set<Int>()
    for value in values {
        guard let layer = value.intValue, layer >= 0 else {
            throw QuiverError(.invalidInput, "\(source): \"leave_out\" must hold non-negative layer indices")
        }
        layers.insert(layer)
    }
    return layers
}

func parseProbability(_ config: JSONValue, _ key: String, source: String) throws -> Float? {
    guard let field = config[key], !field.isNull else { return nil }
    guard let value = field.doubleValue, value >= 0, value < 1 else {
        throw QuiverError(.invalidInput, "\(source): \"\(key)\" must be a number in [0, 1)")
    }
    return Float(value)
}

/// The smallest reduction factor accepted: a bottleneck at most 64 times the hidden size. Smaller (or
/// denormal) factors would size a bottleneck beyond any memory, or beyond `Int`, when `train` builds it.
let minimumReductionFactor = 1.0 / 64

func validateReductionFactor(_ factor: JSONValue, source: String) throws {
    if let number = factor.doubleValue {
        guard number >= minimumReductionFactor else {
            throw QuiverError(.invalidInput, "\(source): \"reduction_factor\" must be at least 1/64 (got \(number))")
        }
        return
    }
    guard let mapping = factor.objectValue else {
        throw QuiverError(.invalidInput, "\(source): \"reduction_factor\" must be a number or a mapping of layers to numbers")
    }
    for (key, value) in mapping {
        guard key == "default" || Int(key) != nil, let number = value.doubleValue, number >= minimumReductionFactor else {
            throw QuiverError(.invalidInput, "\(source): \"reduction_factor\" entry \"\(key)\" must map a layer index or \"default\" to a number of at least 1/64")
        }
    }
}
