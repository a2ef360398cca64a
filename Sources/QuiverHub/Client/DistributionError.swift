import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import QuiverModel
import QuiverStore

/// The distribution spec's error body: `{"errors": [{"code": …, "message": …, "detail": …}]}`.
public struct DistributionErrorBody: Decodable, Sendable, Equatable {
    public struct Entry: Decodable, Sendable, Equatable {
        public var code: String
        public var message: String?
        /// Free-form JSON, kept as compact text.
        public var detail: String?

        enum CodingKeys: String, CodingKey { case code, message, detail }

        public init(code: String, message: String?, detail: String?) {
            self.code = code
            self.message = message
            self.detail = detail
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            code = try container.decode(String.self, forKey: .code)
            message = try container.decodeIfPresent(String.self, forKey: .message)
            detail = (try? container.decodeIfPresent(AnyJSON.self, forKey: .detail))?.flatMap(\.text)
        }
    }

    public var errors: [Entry]

    /// Parses a body; nil when it is not in the spec's format.
    public static func parse(_ bytes: [UInt8]) -> DistributionErrorBody? {
        guard let body = try? JSONDecoder().decode(DistributionErrorBody.self, from: Data(bytes)), !body.errors.isEmpty else { return nil }
        return body
    }

    /// `CODE: message (detail)`, entries joined by `; `, at most 300 characters.
    public var summary: String {
        let text = errors.map { entry in
            var line = entry.code
            if let message = entry.message, !message.isEmpty { line += ": " + message }
            if let detail = entry.detail, !detail.isEmpty, detail != "null" { line += " (\(detail))" }
            return line
        }.joined(separator: "; ")
        return text.count > 300 ? String(text.prefix(299)) + "…" : text
    }

    /// Any JSON value, rendered back as compact text.
    private struct AnyJSON: Decodable {
        var text: String?

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let string = try? container.decode(String.self) {
                text = string
            } else if let value = try? container.decode([String: AnyJSON].self) {
                text = "{" + value.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.text ?? "null")" }.joined(separator: ", ") + "}"
            } else if let value = try? container.decode([AnyJSON].self) {
                text = "[" + value.map { $0.text ?? "null" }.joined(separator: ", ") + "]"
            } else if let value = try? container.decode(Double.self) {
                text = value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
            } else if let value = try? container.decode(Bool.self) {
                text = String(value)
            } else {
                text = nil
            }
        }
    }
}

extension DistributionClient {
    /// A one-line error for an unexpected answer: what was attempted, the status, the remote's
    /// own error codes, and a hint for authentication failures.
    func failure(_ response: HTTPClientResponse, _ action: String) async -> QuiverError {
        let bytes = (try? await response.body.collect(upTo: 64 << 10)).map { Array($0.readableBytesView) } ?? []
        var error = failure(status: response.status, body: bytes, action)
        if response.status == .unauthorized {
            error.message += await authenticator.hasCredentials
                ? " (the credentials were refused)"
                : " (authentication required: \(RemoteCredentials.hint))"
        }
        return error
    }

    /// The error for a status and the body already read.
    func failure(status: HTTPResponseStatus, body bytes: [UInt8], _ action: String) -> QuiverError {
        var message = "\(location.baseURL) refused to \(action): \(status.code)"
        if let body = DistributionErrorBody.parse(bytes) {
            message += " " + body.summary
        } else if !status.reasonPhrase.isEmpty {
            message += " " + status.reasonPhrase
        }
        switch status.code {
        case 401:
            return QuiverError(.io, message)
        case 403:
            return QuiverError(.io, message + " (access denied for these credentials)")
        case 404:
            return QuiverError(.notFound, message)
        case 409:
            return QuiverError(.conflict, message)
        case 400, 413, 415, 416:
            return QuiverError(.invalidInput, message)
        default:
            return QuiverError(.io, message)
        }
    }
}
