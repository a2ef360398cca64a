/// The parsed, validated header of a safetensors file.
///
/// Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data section.
/// The JSON maps tensor names to `{"dtype", "shape", "data_offsets"}` and may carry a
/// `__metadata__` map of strings. Validation follows the reference implementation and is a bit
/// stricter: duplicate keys and unknown entry fields are refused too.
public struct SafetensorsHeader: Sendable, Equatable {
    /// The reference implementation's bound on the header length.
    public static let maximumHeaderLength = 100_000_000

    public var metadata: [String: String]?
    /// Tensors in data-offset order.
    public var tensors: [TensorInfo]
    /// Length N of the JSON header (not counting the 8-byte length prefix).
    public var headerLength: Int

    /// Where the data section starts in the file.
    public var dataOffset: Int { 8 + headerLength }
    /// Total bytes of tensor data.
    public var dataLength: Int { tensors.last?.dataRange.upperBound ?? 0 }

    public func tensor(named name: String) -> TensorInfo? {
        tensors.first { $0.name == name }
    }

    // MARK: - Parsing

    /// Parses and validates the header of a whole file of `fileLength` bytes whose first bytes are
    /// `prefix` (at least the header; the data section need not be present).
    public static func parse(prefix: UnsafeRawBufferPointer, fileLength: Int) throws(SafetensorsError) -> SafetensorsHeader {
        guard fileLength >= 8, prefix.count >= 8 else {
            throw SafetensorsError(.headerTooSmall, "file is \(fileLength) bytes, too short for the 8-byte header length")
        }
        let declared = prefix.loadUnaligned(as: UInt64.self).littleEndian
        guard declared <= UInt64(maximumHeaderLength) else {
            throw SafetensorsError(.headerTooLarge, "header length \(declared) exceeds the limit of \(maximumHeaderLength) bytes")
        }
        let length = Int(declared)
        guard 8 + length <= fileLength, 8 + length <= prefix.count else {
            throw SafetensorsError(.invalidHeaderLength, "header length \(length) runs past the end of the \(fileLength)-byte file")
        }
        let json = UnsafeRawBufferPointer(rebasing: prefix[8..<(8 + length)])
        guard String(validating: json.bindMemory(to: UInt8.self), as: UTF8.self) != nil else {
            throw SafetensorsError(.invalidHeaderUTF8, "header is not valid UTF-8")
        }
        guard json.first == UInt8(ascii: "{") else {
            throw SafetensorsError(.invalidHeaderStart, "header does not start with '{'")
        }
        let document: JSONValue
        do {
            document = try JSONParser.parse(json.bindMemory(to: UInt8.self))
        } catch {
            throw SafetensorsError(.invalidHeaderJSON, "header is not valid JSON: \(error)")
        }
        var header = try fromJSON(document, headerLength: length)
        header.headerLength = length
        let expected = fileLength - 8 - length
        guard header.dataLength == expected else {
            let detail = header.dataLength < expected
                ? "\(expected - header.dataLength) trailing bytes after the last tensor"
                : "data section is \(expected) bytes but the tensors need \(header.dataLength) (truncated file?)"
            throw SafetensorsError(.incompleteBuffer, detail)
        }
        return header
    }

    static func fromJSON(_ document: JSONValue, headerLength: Int) throws(SafetensorsError) -> SafetensorsHeader {
        guard let members = document.objectValue else {
            throw SafetensorsError(.invalidHeaderJSON, "header JSON is not an object")
        }
        var metadata: [String: String]?
        var tensors: [TensorInfo] = []
        for (key, value) in members {
            if key == "__metadata__" {
                metadata = try parseMetadata(value)
            } else {
                tensors.append(try parseEntry(name: key, value))
            }
        }
        // Names that differ only in Unicode normalisation are distinct keys to the JSON but equal Swift
        // Strings; refusing them keeps every name lookup unambiguous.
        guard Set(tensors.map(\.name)).count == tensors.count else {
            throw SafetensorsError(.invalidTensorEntry, "two tensor names differ only in Unicode normalisation")
        }
        tensors.sort { ($0.dataRange.lowerBound, $0.dataRange.upperBound) < ($1.dataRange.lowerBound, $1.dataRange.upperBound) }
        try validateLayout(tensors)
        return SafetensorsHeader(metadata: metadata, tensors: tensors, headerLength: headerLength)
    }

    private static func parseMetadata(_ value: JSONValue) throws(SafetensorsError) -> [String: String] {
        guard let members = value.objectValue else {
            throw SafetensorsError(.invalidMetadata, "__metadata__ is not an object of strings")
        }
        var metadata: [String: String] = [:]
        for (key, value) in members {
            guard let string = value.stringValue else {
                throw SafetensorsError(.invalidMetadata, "__metadata__ value for \"\(key)\" is not a string")
            }
            metadata[key] = string
        }
        return metadata
    }

    private static func parseEntry(name: String, _ value: JSONValue) throws(SafetensorsError) -> TensorInfo {
        guard let members = value.objectValue else {
            throw SafetensorsError(.invalidTensorEntry, "tensor '\(name)': entry is not an object")
        }
        for (key, _) in members where !["dtype", "shape", "data_offsets"].contains(key) {
            throw SafetensorsError(.invalidTensorEntry, "tensor '\(name)': unknown field \"\(key)\"")
        }
        guard let dtypeName = value["dtype"]?.stringValue else {
            throw SafetensorsError(.invalidTensorEntry, "tensor '\(name)': missing or non-string \"dtype\"")
        }
        guard let dtype = DType(rawValue: dtypeName) else {
            throw SafetensorsError(.unknownDType, "tensor '\(name)': unknown dtype \"\(dtypeName)\"")
        }
        guard let shapeValues = value["shape"]?.arrayValue else {
            throw SafetensorsError(.invalidTensorEntry, "tensor '\(name)': missing or non-array \"shape\"")
        }
        var shape: [Int] = []
        for dimension in shapeValues {
            guard let size = dimension.intValue, size >= 0, case .integer = dimension else {
                throw SafetensorsError(.invalidTensorEntry, "tensor '\(name)': shape must hold non-negative integers")
            }
            shape.append(size)
        }
        guard let offsets = value["data_offsets"]?.arrayValue, offsets.count == 2,
              case .integer = offsets[0], case .integer = offsets[1],
              let begin = offsets[0].intValue, let end = offsets[1].intValue, begin >= 0, end >= 0
        else {
            throw SafetensorsError(.invalidTensorEntry, "tensor '\(name)': \"data_offsets\" must be two non-negative integers")
        }
        guard end >= begin else {
            throw SafetensorsError(.invalidOffsets, "tensor '\(name)': data_offsets [\(begin), \(end)] end before they begin")
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, dataRange: begin..<end)
    }

    /// Offsets must tile the data section from 0 with no gap or overlap, and each tensor's byte
    /// count must equal its shape times its dtype size.
    private static func validateLayout(_ tensors: [TensorInfo]) throws(SafetensorsError) {
        var expectedStart = 0
        for tensor in tensors {
            guard tensor.dataRange.lowerBound == expectedStart else {
                let problem = tensor.dataRange.lowerBound > expectedStart ? "leave a hole" : "overlap"
                throw SafetensorsError(.invalidOffsets, "tensor '\(tensor.name)': data_offsets [\(tensor.dataRange.lowerBound), \(tensor.dataRange.upperBound)] \(problem) (expected to start at \(expectedStart))")
            }
            guard let elements = tensor.shape.checkedProduct(),
                  let bytes = tensor.dtype.byteCount(elements: elements) ?? nil as Int?
            else {
                if tensor.shape.checkedProduct() == nil {
                    throw SafetensorsError(.overflow, "tensor '\(tensor.name)': shape \(tensor.shape) overflows")
                }
                throw SafetensorsError(.sizeMismatch, "tensor '\(tensor.name)': shape \(tensor.shape) of \(tensor.dtype.rawValue) does not fill whole bytes")
            }
            guard bytes == tensor.byteCount else {
                throw SafetensorsError(.sizeMismatch, "tensor '\(tensor.name)': shape \(tensor.shape) of \(tensor.dtype.rawValue) needs \(bytes) bytes but data_offsets give \(tensor.byteCount)")
            }
            expectedStart = tensor.dataRange.upperBound
        }
    }
}
