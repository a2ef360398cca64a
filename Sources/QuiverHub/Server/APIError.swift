import Foundation
import HTTPTypes
import QuiverModel
import QuiverStore

/// An error of the JSON API and the inference endpoint: `{"error": {"code": "not_found", "message": "…"}}`.
struct APIError: Error, CustomStringConvertible {
    var status: HTTPResponse.Status
    /// A stable word for programs: `invalid_request`, `not_found`, `too_large`, `unauthorized`, `overloaded`…
    var code: String
    var message: String
    var headers: HTTPFields = [:]

    var description: String { "\(code): \(message)" }

    static func invalidRequest(_ message: String) -> APIError { APIError(status: .badRequest, code: "invalid_request", message: message) }

    static func tooLarge(_ message: String) -> APIError { APIError(status: .contentTooLarge, code: "too_large", message: message) }

    /// The API error for a registry or model error.
    init(_ error: QuiverError) {
        message = error.message
        switch error.kind {
        case .invalidInput, .invalidName: (status, code) = (.badRequest, "invalid_request")
        case .notFound: (status, code) = (.notFound, "not_found")
        case .conflict: (status, code) = (.conflict, "conflict")
        case .incompatible: (status, code) = (.unprocessableContent, "incompatible")
        case .unsupported: (status, code) = (.unprocessableContent, "unsupported")
        case .corrupt: (status, code) = (.internalServerError, "corrupt")
        case .io: (status, code) = (.internalServerError, "io")
        }
    }

    init(status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }
}
