/// One tensor entry of a safetensors header: name, element type, shape and byte range within the
/// data section (the bytes after the header).
public struct TensorInfo: Sendable, Equatable, Hashable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    /// Byte range relative to the start of the data section.
    public var dataRange: Range<Int>

    public init(name: String, dtype: DType, shape: [Int], dataRange: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.dataRange = dataRange
    }

    /// Number of elements (1 for a scalar, 0 when any dimension is 0).
    public var elementCount: Int { shape.reduce(1, *) }

    public var byteCount: Int { dataRange.count }
}

extension Array where Element == Int {
    /// The product of the dimensions, or nil on overflow.
    func checkedProduct() -> Int? {
        var product = 1
        for dimension in self {
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            product = next
        }
        return product
    }
}
