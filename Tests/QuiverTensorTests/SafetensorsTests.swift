import Foundation
import Testing
@testable import QuiverTensor

/// Builds a raw safetensors file from a header JSON string and a data section.
func rawSafetensors(_ header: String, data: [UInt8] = []) -> [UInt8] {
    let json = Array(header.utf8)
    return withUnsafeBytes(of: UInt64(json.count).littleEndian, Array.init) + json + data
}

@Suite struct SafetensorsReadingTests {
    @Test func readsTensorsMetadataAndTypedValues() throws {
        let values: [Float] = [1, -2, 0.5, 3]
        let ids: [Int64] = [7, -1]
        let bytes = rawSafetensors(
            #"{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"ids":{"dtype":"I64","shape":[2],"data_offsets":[16,32]}}"#,
            data: values.withUnsafeBytes(Array.init) + ids.withUnsafeBytes(Array.init))
        let file = try SafetensorsFile(bytes: bytes)
        #expect(file.header.metadata == ["format": "pt"])
        #expect(file.tensorNames == ["w", "ids"])
        #expect(try file.floats("w") == values)
        #expect(try file.integers("ids") == ids)
        #expect(try file.info("w").shape == [2, 2])
    }

    @Test func halfAndBFloat16AreDecodedExactly() throws {
        let halves: [UInt16] = [0x3C00, 0xC000, 0x0001, 0x7BFF]  // 1, -2, smallest subnormal, 65504
        let brains: [UInt16] = [0x3F80, 0xC040]  // 1, -3
        let bytes = rawSafetensors(
            #"{"h":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]}}"#,
            data: halves.withUnsafeBytes(Array.init) + brains.withUnsafeBytes(Array.init))
        let file = try SafetensorsFile(bytes: bytes)
        #expect(try file.floats("h") == [1, -2, 0x1p-24, 65504])
        #expect(try file.floats("b") == [1, -3])
    }

    @Test func everyDTypeIsReadableAsRawBytes() throws {
        for dtype in DType.allCases {
            let elements = 8  // fills whole bytes for every width, including 4- and 6-bit floats
            let byteCount = dtype.byteCount(elements: elements)!
            let bytes = rawSafetensors(
                #"{"t":{"dtype":"\#(dtype.rawValue)","shape":[2,4],"data_offsets":[0,\#(byteCount)]}}"#,
                data: (0..<byteCount).map { UInt8($0 & 0xFF) })
            let file = try SafetensorsFile(bytes: bytes)
            #expect(try file.tensorData("t").bytes == (0..<byteCount).map { UInt8($0 & 0xFF) }, "\(dtype)")
        }
    }

    @Test func emptyFileHeaderAndZeroSizedTensors() throws {
        let empty = try SafetensorsFile(bytes: rawSafetensors("{}      "))
        #expect(empty.header.tensors.isEmpty)
        let zero = try SafetensorsFile(bytes: rawSafetensors(#"{"z":{"dtype":"F32","shape":[0,3],"data_offsets":[0,0]}}"#))
        #expect(try zero.floats("z").isEmpty)
    }

    @Test func memoryMappedFileMatchesInMemoryRead() throws {
        let tensors = ["a": TensorData(shape: [3], floats: [1, 2, 3]), "b": TensorData(shape: [1, 2], floats: [4, 5], dtype: .bf16)]
        let bytes = Safetensors.serialize(tensors, metadata: ["format": "pt"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-st-\(UUID()).safetensors").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let mapped = try SafetensorsFile(path: path)
        #expect(try mapped.floats("a") == [1, 2, 3])
        #expect(try mapped.floats("b") == [4, 5])
        #expect(mapped.canonicalBytes() == bytes)
    }
}

@Suite struct SafetensorsCanonicalTests {
    /// The layout the reference writer produces: dtypes by descending enum order, then names;
    /// compact JSON with __metadata__ first; header padded with spaces to 8 bytes.
    @Test func canonicalLayoutMatchesTheReferenceWriter() throws {
        let tensors = [
            "b": TensorData(shape: [2], floats: [1, 2]),
            "a": TensorData(shape: [2], floats: [3, 4]),
            "h": TensorData(shape: [1], floats: [1], dtype: .f16),
            "i": TensorData(dtype: .i64, shape: [1], bytes: Array(repeating: 0, count: 8)),
        ]
        let bytes = Safetensors.serialize(tensors, metadata: ["format": "pt"])
        let expectedJSON = #"{"__metadata__":{"format":"pt"},"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[16,24]},"h":{"dtype":"F16","shape":[1],"data_offsets":[24,26]}}"#
        let headerLength = Int(bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        #expect(headerLength % 8 == 0)
        let header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
        #expect(header.trimmingCharacters(in: .whitespaces) == expectedJSON)
        #expect(try SafetensorsFile(bytes: bytes).isCanonical)
    }

    @Test func nonCanonicalFileIsRewrittenWithIdenticalTensors() throws {
        // Names out of order, no padding: valid, but not canonical.
        let bytes = rawSafetensors(
            #"{"z":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
            data: [0, 0, 128, 63, 0, 0, 0, 64])
        let file = try SafetensorsFile(bytes: bytes)
        #expect(!file.isCanonical)
        let canonical = try SafetensorsFile(bytes: file.canonicalBytes())
        #expect(canonical.isCanonical)
        #expect(try canonical.floats("z") == [1])
        #expect(try canonical.floats("a") == [2])
        #expect(canonical.canonicalBytes() == file.canonicalBytes())
    }
}

@Suite struct SafetensorsValidationTests {
    static let validTensor = #""t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#

    /// Each malformed file and the error kind it must raise.
    static let malformed: [(String, [UInt8], SafetensorsError.Kind)] = [
        ("shorter than the length prefix", [1, 2, 3], .headerTooSmall),
        ("header length over 100 MB", withUnsafeBytes(of: UInt64(200_000_000).littleEndian, Array.init) + Array("{}".utf8), .headerTooLarge),
        ("header length past the end", withUnsafeBytes(of: UInt64(64).littleEndian, Array.init) + Array("{}".utf8), .invalidHeaderLength),
        ("invalid UTF-8", rawSafetensors("{\"\u{FF}\":1}").map { $0 == 0xC3 ? 0xFF : $0 }, .invalidHeaderUTF8),
        ("not starting with {", rawSafetensors(" {}"), .invalidHeaderStart),
        ("not JSON", rawSafetensors("{nope}"), .invalidHeaderJSON),
        ("duplicate tensor name", rawSafetensors("{\(validTensor),\(validTensor)}", data: Array(repeating: 0, count: 8)), .invalidHeaderJSON),
        ("names equal up to normalisation", rawSafetensors("{\"\u{E9}\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"e\u{301}\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", data: Array(repeating: 0, count: 8)), .invalidTensorEntry),
        ("metadata value not a string", rawSafetensors(#"{"__metadata__":{"a":1}}"#), .invalidMetadata),
        ("unknown dtype", rawSafetensors(#"{"t":{"dtype":"F31","shape":[2],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), .unknownDType),
        ("negative dimension", rawSafetensors(#"{"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), .invalidTensorEntry),
        ("unknown entry field", rawSafetensors(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}"#, data: Array(repeating: 0, count: 8)), .invalidTensorEntry),
        ("offsets end before begin", rawSafetensors(#"{"t":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#, data: Array(repeating: 0, count: 8)), .invalidOffsets),
        ("hole before first tensor", rawSafetensors(#"{"t":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: Array(repeating: 0, count: 12)), .invalidOffsets),
        ("overlapping tensors", rawSafetensors(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: Array(repeating: 0, count: 8)), .invalidOffsets),
        ("size ≠ shape × dtype", rawSafetensors(#"{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), .sizeMismatch),
        ("shape overflows", rawSafetensors(#"{"t":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8)), .overflow),
        ("sub-byte tensor not filling bytes", rawSafetensors(#"{"t":{"dtype":"F4","shape":[3],"data_offsets":[0,1]}}"#, data: [0]), .sizeMismatch),
        ("trailing bytes", rawSafetensors("{\(validTensor)}", data: Array(repeating: 0, count: 9)), .incompleteBuffer),
        ("truncated data", rawSafetensors("{\(validTensor)}", data: Array(repeating: 0, count: 7)), .incompleteBuffer),
    ]

    @Test(arguments: malformed.indices)
    func malformedFileIsRefused(_ index: Int) {
        let (label, bytes, kind) = Self.malformed[index]
        do {
            _ = try SafetensorsFile(bytes: bytes, source: "bad.safetensors")
            Issue.record("\(label): accepted")
        } catch let error as SafetensorsError {
            #expect(error.kind == kind, "\(label): \(error)")
            #expect(error.description.hasPrefix("bad.safetensors: "), "\(label): \(error)")
            #expect(!error.description.contains("\n"))
        } catch {
            Issue.record("\(label): unexpected \(error)")
        }
    }

    @Test func missingTensorIsNamed() throws {
        let file = try SafetensorsFile(bytes: rawSafetensors("{\(Self.validTensor)}", data: Array(repeating: 0, count: 8)))
        #expect(throws: SafetensorsError.self) { try file.floats("missing") }
    }
}

@Suite struct FloatConversionTests {
    @Test func halfRoundTripsEveryValue() {
        for bits in UInt16.min...UInt16.max {
            let value = FloatConversion.float(fromHalf: bits)
            if value.isNaN { continue }
            #expect(FloatConversion.half(from: value) == bits)
        }
    }

    @Test func roundsToNearestEven() {
        // 1 + 2^-11 lies halfway between 1 and the next half (1 + 2^-10): ties go to even (1).
        #expect(FloatConversion.half(from: 1 + 0x1p-11) == 0x3C00)
        #expect(FloatConversion.half(from: 1 + 0x1p-11 + 0x1p-20) == 0x3C01)
        #expect(FloatConversion.bfloat16(from: Float(bitPattern: 0x3F80_8000)) == 0x3F80)
        #expect(FloatConversion.bfloat16(from: Float(bitPattern: 0x3F81_8000)) == 0x3F82)
        #expect(FloatConversion.half(from: 1e6) == 0x7C00)
        #expect(FloatConversion.float(fromBFloat16: FloatConversion.bfloat16(from: .nan)).isNaN)
    }
}
