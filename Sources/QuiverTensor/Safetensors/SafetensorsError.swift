/// Why a safetensors file was refused. The description is one line naming the file and the fault.
public struct SafetensorsError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case io
        case headerTooSmall
        case headerTooLarge
        case invalidHeaderLength
        case invalidHeaderUTF8
        case invalidHeaderStart
        case invalidHeaderJSON
        case invalidMetadata
        case invalidTensorEntry
        case unknownDType
        case invalidOffsets
        case sizeMismatch
        case overflow
        case incompleteBuffer
        case tensorNotFound
        case unsupportedConversion
    }

    public var kind: Kind
    public var message: String
    /// The file (or other source) the fault was found in.
    public var source: String

    public init(_ kind: Kind, _ message: String, source: String = "") {
        self.kind = kind
        self.message = message
        self.source = source
    }

    public var description: String { source.isEmpty ? message : "\(source): \(message)" }

    func from(_ source: String) -> SafetensorsError {
        var copy = self
        copy.source = source
        return copy
    }
}
