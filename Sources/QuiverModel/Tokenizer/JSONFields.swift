import Foundation
import QuiverTensor

// MARK: - Reading typed fields from a JSON file

/// A parsed JSON file and typed accessors whose errors name the file and the field (`normalizer.lowercase`).
struct JSONFile {
    let source: String
    let root: JSONValue

    /// Reads and parses `url`; the root must be an object.
    init(url: URL) throws(TokenizerError) {
        let bytes = try readFile(url)
        try self.init(bytes: bytes, source: url.path)
    }

    init(bytes: [UInt8], source: String) throws(TokenizerError) {
        self.source = source
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw .invalidJSON(source: source, field: "JSON", reason: error.description)
        }
        guard case .object = root else {
            throw .invalidJSON(source: source, field: "document", reason: "expected an object, found \(root.kindName)")
        }
    }

    /// The value at `path`, or nil when a member on the way is missing or null.
    func value(_ path: String) -> JSONValue? {
        var current = root
        for key in path.split(separator: ".") {
            guard let next = current[String(key)], !next.isNull else { return nil }
            current = next
        }
        return current
    }

    func bool(_ path: String) throws(TokenizerError) -> Bool? {
        guard let value = value(path) else { return nil }
        guard let bool = value.boolValue else { throw wrongType(path, expected: "a boolean", found: value) }
        return bool
    }

    func int(_ path: String) throws(TokenizerError) -> Int? {
        guard let value = value(path) else { return nil }
        guard let int = value.intValue else { throw wrongType(path, expected: "an integer", found: value) }
        return int
    }

    /// A number that may be too large for `Int` (such as `model_max_length: 1e30`, meaning "no limit").
    func number(_ path: String) throws(TokenizerError) -> Double? {
        guard let value = value(path) else { return nil }
        guard let number = value.doubleValue else { throw wrongType(path, expected: "a number", found: value) }
        return number
    }

    func string(_ path: String) throws(TokenizerError) -> String? {
        guard let value = value(path) else { return nil }
        guard let string = value.stringValue else { throw wrongType(path, expected: "a string", found: value) }
        return string
    }

    func object(_ path: String) throws(TokenizerError) -> JSONValue? {
        guard let value = value(path) else { return nil }
        guard case .object = value else { throw wrongType(path, expected: "an object", found: value) }
        return value
    }

    func array(_ path: String) throws(TokenizerError) -> [JSONValue]? {
        guard let value = value(path) else { return nil }
        guard let array = value.arrayValue else { throw wrongType(path, expected: "an array", found: value) }
        return array
    }

    /// A special token written either as a string or as an AddedToken object `{"content": …}`.
    func tokenContent(_ path: String) throws(TokenizerError) -> String? {
        guard let value = value(path) else { return nil }
        return try tokenContent(of: value, path: path)
    }

    func tokenContent(of value: JSONValue, path: String) throws(TokenizerError) -> String {
        if let string = value.stringValue { return string }
        if let content = value["content"]?.stringValue { return content }
        throw wrongType(path, expected: "a string or an object with \"content\"", found: value)
    }

    func invalid(_ path: String, _ reason: String) -> TokenizerError {
        .invalidJSON(source: source, field: path, reason: reason)
    }

    func unsupported(_ path: String, _ value: String) -> TokenizerError {
        .unsupported(source: source, field: path, value: value)
    }

    private func wrongType(_ path: String, expected: String, found: JSONValue) -> TokenizerError {
        invalid(path, "expected \(expected), found \(found.kindName)")
    }
}
