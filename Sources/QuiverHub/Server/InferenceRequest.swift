import Foundation
import QuiverModel
import QuiverStore

/// The body of `POST /v1/infer`: one task (`"task": "sentiment[:VERSION]"`) or several
/// (`"tasks": ["a", "b"]`), the texts, and optionally a second text per item and a token limit.
///
/// ```json
/// {"task": "sentiment", "texts": ["great movie", "awful"]}
/// {"tasks": ["sentiment", "topic:2"], "texts": ["…"], "text_pairs": ["…"], "max_length": 64}
/// ```
struct InferenceRequest: Decodable, Sendable {
    var task: String?
    var tasks: [String]?
    var texts: [String]
    var textPairs: [String?]?
    var maxLength: Int?

    enum CodingKeys: String, CodingKey {
        case task, tasks, texts
        case textPairs = "text_pairs"
        case maxLength = "max_length"
    }

    /// Decodes and checks a body against the server's limits.
    init(json bytes: [UInt8], limits: ServerLimits) throws(APIError) {
        do {
            self = try JSONDecoder().decode(Self.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, _) {
            throw .invalidRequest("request body: missing \"\(key.stringValue)\"")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            throw .invalidRequest("request body: \"\(path)\" has the wrong type (\(context.debugDescription))")
        } catch {
            throw .invalidRequest("request body is not valid JSON: expected {\"task\": …, \"texts\": [...]}")
        }
        switch (task, tasks) {
        case (nil, nil): throw .invalidRequest("give \"task\" or \"tasks\"")
        case (.some, .some): throw .invalidRequest("give \"task\" or \"tasks\", not both")
        case (nil, .some(let tasks)) where tasks.isEmpty: throw .invalidRequest("\"tasks\" is empty")
        case (nil, .some(let tasks)) where tasks.count > limits.inferenceTasks:
            throw .invalidRequest("\(tasks.count) tasks: at most \(limits.inferenceTasks) per request")
        default: break
        }
        guard !texts.isEmpty else { throw .invalidRequest("\"texts\" is empty") }
        guard texts.count <= limits.inferenceTexts else {
            throw .invalidRequest("\(texts.count) texts: at most \(limits.inferenceTexts) per request")
        }
        if let textPairs, textPairs.count != texts.count {
            throw .invalidRequest("\"text_pairs\" has \(textPairs.count) entries for \(texts.count) texts")
        }
        if let maxLength, maxLength < 2 { throw .invalidRequest("\"max_length\" must be at least 2") }
    }

    /// The tasks asked for, parsed as `TASK[:VERSION]`.
    func references() throws(APIError) -> [Reference] {
        do {
            return try (tasks ?? [task!]).map { try Reference(parsing: $0) }
        } catch let error as QuiverError {
            throw APIError(error)
        } catch {
            throw .invalidRequest("\(error)")
        }
    }
}
