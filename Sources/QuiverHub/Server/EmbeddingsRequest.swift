import Foundation
import QuiverModel

/// The body of `POST /v1/embeddings`, in the shape of OpenAI's embeddings API: the base model by name and one text
/// or a list of texts.
///
/// ```json
/// {"model": "all-MiniLM-L6-v2", "input": "a text"}
/// {"model": "all-MiniLM-L6-v2", "input": ["a text", "another"], "encoding_format": "base64"}
/// ```
///
/// Quiver's additions: `"pooling": "mean" | "cls"` (default mean) and `"normalize": false` (default true: unit
/// vectors, as OpenAI's are). Token-id inputs and `"dimensions"` other than the model's width are refused. A text
/// longer than the model's positions is truncated to them, like `quiver embed`.
struct EmbeddingsRequest: Sendable {
    var model: String
    var input: [String]
    var encodingFormat: EncodingFormat
    var pooling: EmbeddingPooling
    var normalize: Bool

    /// How the vectors are written in the answer.
    enum EncodingFormat: String, Sendable, Decodable {
        /// A JSON array of numbers.
        case float
        /// The little-endian float32 bytes, base64-encoded (what OpenAI's Python client asks for by default).
        case base64
    }

    /// The body as sent, before its checks.
    private struct Body: Decodable {
        var model: String
        var input: Input
        var encodingFormat: String?
        var pooling: String?
        var normalize: Bool?
        /// A number of any size: checked before it is used as an integer.
        var dimensions: Double?

        enum CodingKeys: String, CodingKey {
            case model, input, pooling, normalize, dimensions
            case encodingFormat = "encoding_format"
        }
    }

    /// `"input"`: a string, a list of strings, or token ids (refused).
    private enum Input: Decodable {
        case texts([String])
        case tokenIDs

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self = .texts([text])
            } else if let texts = try? container.decode([String].self) {
                self = .texts(texts)
            } else if (try? container.decode([Int].self)) != nil || (try? container.decode([[Int]].self)) != nil {
                self = .tokenIDs
            } else {
                throw DecodingError.typeMismatch(
                    [String].self, .init(codingPath: decoder.codingPath, debugDescription: "expected a string or a list of strings"))
            }
        }
    }

    /// Decodes and checks a body against the server's limits.
    init(json bytes: [UInt8], limits: ServerLimits) throws(APIError) {
        let body: Body
        do {
            body = try JSONDecoder().decode(Body.self, from: Data(bytes))
        } catch let DecodingError.keyNotFound(key, _) {
            throw .invalidRequest("request body: missing \"\(key.stringValue)\"")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            throw .invalidRequest("request body: \"\(path)\" has the wrong type (\(context.debugDescription))")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            throw .invalidRequest("request body: \"\(path)\" is not valid (\(context.debugDescription))")
        } catch {
            throw .invalidRequest("request body is not valid JSON: expected {\"model\": …, \"input\": …}")
        }
        guard !body.model.isEmpty else { throw .invalidRequest("\"model\" must name a base model") }
        model = body.model
        guard case .texts(let texts) = body.input else {
            throw .invalidRequest("\"input\" as token ids is not supported: send the texts")
        }
        guard !texts.isEmpty else { throw .invalidRequest("\"input\" is empty") }
        guard texts.count <= limits.inferenceTexts else {
            throw .invalidRequest("\(texts.count) inputs: at most \(limits.inferenceTexts) per request")
        }
        input = texts
        guard let format = EncodingFormat(rawValue: body.encodingFormat ?? "float") else {
            throw .invalidRequest("\"encoding_format\" must be \"float\" or \"base64\", not \"\(body.encodingFormat!)\"")
        }
        encodingFormat = format
        guard let pooling = EmbeddingPooling(rawValue: body.pooling ?? "mean") else {
            throw .invalidRequest("\"pooling\" must be \"mean\" or \"cls\", not \"\(body.pooling!)\"")
        }
        self.pooling = pooling
        normalize = body.normalize ?? true
        if let value = body.dimensions {
            guard value == value.rounded() else {
                throw .invalidRequest("\"dimensions\" must be a whole number of dimensions, not \(value)")
            }
            guard value >= 1, value <= Double(Self.largestDimensions) else {
                throw .invalidRequest("\"dimensions\" \(value) is out of range: from 1 to \(Self.largestDimensions)")
            }
            dimensions = Int(value)
        }
    }

    /// The `"dimensions"` asked for, which must be the model's width when given (vectors are not shortened).
    var dimensions: Int?
    /// The most `"dimensions"` a request may name before any model is looked at.
    static let largestDimensions = 1 << 20
}

/// The answer of `POST /v1/embeddings`, as OpenAI's API gives it.
struct EmbeddingsResponse: Encodable {
    struct Item: Encodable {
        let object = "embedding"
        let index: Int
        let embedding: Vector
    }

    /// A vector as numbers, or as base64 of its float32 bytes.
    enum Vector: Encodable {
        case float([Float])
        case base64(String)

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .float(let values): try container.encode(values)
            case .base64(let text): try container.encode(text)
            }
        }
    }

    struct Usage: Encodable {
        let promptTokens: Int
        let totalTokens: Int

        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case totalTokens = "total_tokens"
        }
    }

    let object = "list"
    let data: [Item]
    let model: String
    let usage: Usage

    init(vectors: [[Float]], format: EmbeddingsRequest.EncodingFormat, model: String, tokens: Int) {
        data = vectors.enumerated().map { index, vector in
            switch format {
            case .float: Item(index: index, embedding: .float(vector))
            case .base64: Item(index: index, embedding: .base64(Self.base64(vector)))
            }
        }
        self.model = model
        usage = Usage(promptTokens: tokens, totalTokens: tokens)
    }

    /// The float32 values' little-endian bytes in base64.
    static func base64(_ vector: [Float]) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(vector.count * 4)
        for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return Data(bytes).base64EncodedString()
    }
}
