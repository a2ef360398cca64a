import Foundation
import QuiverTensor

/// Decodes JSON from outside (manifests, config blobs, `quiver.json`) as a `Decodable` type after
/// Quiver's strict parser has accepted it: Foundation's decoder alone would take the last of two
/// duplicate keys, so a document could say one thing to Quiver and another to a registry.
package enum StrictJSON {
    package static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], source: String, what: String) throws -> T {
        do {
            _ = try JSONParser.parse(bytes)
        } catch {
            throw QuiverError(.invalidInput, "\(source): not valid JSON: \(error)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(bytes))
        } catch let error as QuiverError {
            throw error
        } catch {
            throw QuiverError(.invalidInput, "\(source): not a valid \(what) (\(Self.describe(error)))")
        }
    }

    /// A decoding error in one clause: what was expected, and where.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "the document" : "\"" + keys.joined(separator: ".") + "\""
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing \"\(key.stringValue)\" in \(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
