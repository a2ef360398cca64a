import Foundation
import HTTPTypes
import QuiverModel
import QuiverStore

/// An error of the OCI distribution endpoint, answered in the spec's format:
/// `{"errors": [{"code": "MANIFEST_UNKNOWN", "message": "…", "detail": {…}}]}`
/// (the response itself is in `RegistryError+Response.swift`, so the parsers that throw it need no server).
struct RegistryError: Error, CustomStringConvertible {
    /// The spec's error codes, with the status each is answered with.
    enum Code: String, Sendable {
        case blobUnknown = "BLOB_UNKNOWN"
        case blobUploadInvalid = "BLOB_UPLOAD_INVALID"
        case blobUploadUnknown = "BLOB_UPLOAD_UNKNOWN"
        case digestInvalid = "DIGEST_INVALID"
        case manifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN"
        case manifestInvalid = "MANIFEST_INVALID"
        case manifestUnknown = "MANIFEST_UNKNOWN"
        case nameInvalid = "NAME_INVALID"
        case nameUnknown = "NAME_UNKNOWN"
        case sizeInvalid = "SIZE_INVALID"
        case unauthorized = "UNAUTHORIZED"
        case denied = "DENIED"
        case unsupported = "UNSUPPORTED"
        case tooManyRequests = "TOOMANYREQUESTS"
        case paginationNumberInvalid = "PAGINATION_NUMBER_INVALID"
        /// Not in the spec (which has no code for it): a `Range` a blob cannot satisfy (416).
        case rangeInvalid = "RANGE_INVALID"

        var status: HTTPResponse.Status {
            switch self {
            case .blobUnknown, .blobUploadUnknown, .manifestUnknown, .nameUnknown: .notFound
            case .unauthorized: .unauthorized
            case .denied: .forbidden
            case .unsupported: .methodNotAllowed
            case .tooManyRequests: .tooManyRequests
            case .rangeInvalid: .rangeNotSatisfiable
            default: .badRequest
            }
        }
    }

    var code: Code
    var status: HTTPResponse.Status
    var message: String
    var detail: [String: String]?
    var headers: HTTPFields

    init(_ code: Code, _ message: String, status: HTTPResponse.Status? = nil, detail: [String: String]? = nil, headers: HTTPFields = [:]) {
        self.code = code
        self.status = status ?? code.status
        self.message = message
        self.detail = detail
        self.headers = headers
    }

    var description: String { "\(code.rawValue): \(message)" }

    /// The OCI error for a registry error raised while serving `repository`.
    static func from(_ error: QuiverError, manifest: Bool = false) -> RegistryError {
        switch error.kind {
        case .invalidName: RegistryError(.nameInvalid, error.message)
        case .notFound: RegistryError(manifest ? .manifestUnknown : .nameUnknown, error.message)
        case .invalidInput, .incompatible, .unsupported: RegistryError(.manifestInvalid, error.message)
        case .conflict: RegistryError(.manifestInvalid, error.message, status: .conflict)
        case .corrupt, .io: RegistryError(.blobUnknown, error.message, status: .internalServerError)
        }
    }
}

extension HTTPField.Name {
    static let distributionAPIVersion = HTTPField.Name(DistributionHeader.apiVersion)!
    static let dockerContentDigest = HTTPField.Name(DistributionHeader.contentDigest)!
    static let dockerUploadUUID = HTTPField.Name(DistributionHeader.uploadUUID)!
    static let ociChunkMinLength = HTTPField.Name(DistributionHeader.chunkMinLength)!
    static let link = HTTPField.Name("Link")!
}
