/// The canonical serialisation of a set of tensors, identical to what the reference `safetensors`
/// writer produces: tensors ordered by descending dtype (the reference enum order), then by name
/// (byte order); compact JSON with `__metadata__` first (its keys sorted); the header padded with
/// spaces to a multiple of 8 bytes.
///
/// Identical tensors and metadata always give identical bytes, which is what content addressing
/// needs; a file written by the reference library is usually already canonical, so it round-trips
/// bit for bit.
public struct SafetensorsLayout: Sendable {
    public struct Entry: Sendable, Equatable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
        public var dataRange: Range<Int>
    }

    /// Tensors in canonical (file) order with their data ranges.
    public let entries: [Entry]
    /// The 8-byte length prefix followed by the padded JSON header.
    public let headerBytes: [UInt8]
    public let totalLength: Int

    public init(tensors: [(name: String, dtype: DType, shape: [Int])], metadata: [String: String]?) {
        let rank = Dictionary(uniqueKeysWithValues: DType.allCases.enumerated().map { ($1, $0) })
        let ordered = tensors.sorted { left, right in
            if left.dtype != right.dtype { return rank[left.dtype]! > rank[right.dtype]! }
            return left.name.utf8.lexicographicallyPrecedes(right.name.utf8)
        }
        var offset = 0
        var entries: [Entry] = []
        for tensor in ordered {
            let elements = tensor.shape.reduce(1, *)
            let bytes = tensor.dtype.byteCount(elements: elements) ?? 0
            entries.append(Entry(name: tensor.name, dtype: tensor.dtype, shape: tensor.shape, dataRange: offset..<(offset + bytes)))
            offset += bytes
        }
        var members: [(key: String, value: JSONValue)] = []
        if let metadata {
            let sorted = metadata.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            members.append(("__metadata__", .object(sorted.map { ($0.key, .string($0.value)) })))
        }
        for entry in entries {
            members.append((entry.name, .object([
                ("dtype", .string(entry.dtype.rawValue)),
                ("shape", .array(entry.shape.map { .integer(Int64($0)) })),
                ("data_offsets", .array([.integer(Int64(entry.dataRange.lowerBound)), .integer(Int64(entry.dataRange.upperBound))])),
            ])))
        }
        var json = Array(JSONWriter.serialize(.object(members)).utf8)
        json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var header = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
        header.append(contentsOf: json)
        self.entries = entries
        self.headerBytes = header
        self.totalLength = header.count + offset
    }
}

/// An owned tensor: element type, shape and little-endian bytes.
public struct TensorData: Sendable, Equatable {
    public var dtype: DType
    public var shape: [Int]
    public var bytes: [UInt8]

    public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// An F32 tensor from values in row-major order.
    public init(shape: [Int], floats: [Float]) {
        precondition(shape.reduce(1, *) == floats.count, "shape \(shape) does not match \(floats.count) values")
        self.init(dtype: .f32, shape: shape, bytes: floats.withUnsafeBytes { Array($0) })
    }

    /// A tensor of `dtype` (F32, F16 or BF16) from Float values, rounded to nearest even.
    public init(shape: [Int], floats: [Float], dtype: DType) {
        precondition(shape.reduce(1, *) == floats.count, "shape \(shape) does not match \(floats.count) values")
        self.init(dtype: dtype, shape: shape, bytes: FloatConversion.bytes(from: floats, dtype: dtype))
    }

    public var elementCount: Int { shape.reduce(1, *) }

    public func floats() throws -> [Float] {
        try bytes.withUnsafeBytes { try FloatConversion.floats(from: $0, dtype: dtype) }
    }
}

public enum Safetensors {
    /// Serialises named tensors canonically.
    public static func serialize(_ tensors: [String: TensorData], metadata: [String: String]? = nil) -> [UInt8] {
        let layout = SafetensorsLayout(tensors: tensors.map { ($0.key, $0.value.dtype, $0.value.shape) }, metadata: metadata)
        var output = layout.headerBytes
        output.reserveCapacity(layout.totalLength)
        for entry in layout.entries {
            output.append(contentsOf: tensors[entry.name]!.bytes)
        }
        return output
    }
}
