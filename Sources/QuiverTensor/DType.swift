/// The element types of the safetensors format, by their names in a safetensors header.
///
/// Every dtype can be stored and moved as raw bytes; typed access (`Float` conversion) exists for
/// the floating-point and integer types that models actually use.
public enum DType: String, Sendable, CaseIterable, Codable {
    case bool = "BOOL"
    case f4 = "F4"  // float4 e2m1, two per byte
    case f6e2m3 = "F6_E2M3"  // float6, packed
    case f6e3m2 = "F6_E3M2"
    case u8 = "U8"
    case i8 = "I8"
    case f8e5m2 = "F8_E5M2"
    case f8e4m3 = "F8_E4M3"
    case f8e8m0 = "F8_E8M0"
    case i16 = "I16"
    case u16 = "U16"
    case f16 = "F16"
    case bf16 = "BF16"
    case i32 = "I32"
    case u32 = "U32"
    case f32 = "F32"
    case c64 = "C64"
    case f64 = "F64"
    case i64 = "I64"
    case u64 = "U64"

    /// Size of one element in bits (sub-byte types are packed).
    public var bitWidth: Int {
        switch self {
        case .f4: 4
        case .f6e2m3, .f6e3m2: 6
        case .bool, .u8, .i8, .f8e5m2, .f8e4m3, .f8e8m0: 8
        case .i16, .u16, .f16, .bf16: 16
        case .i32, .u32, .f32: 32
        case .c64, .f64, .i64, .u64: 64
        }
    }

    /// True for the types whose bytes are IEEE-like floats, where byte-plane grouping helps compression.
    public var isFloatingPoint: Bool {
        switch self {
        case .f16, .bf16, .f32, .f64, .f8e5m2, .f8e4m3, .f8e8m0, .f4, .f6e2m3, .f6e3m2, .c64: true
        default: false
        }
    }

    /// The number of bytes that `count` elements occupy, or nil when they do not fill whole bytes.
    public func byteCount(elements count: Int) -> Int? {
        let (bits, overflow) = count.multipliedReportingOverflow(by: bitWidth)
        guard !overflow, bits % 8 == 0 else { return nil }
        return bits / 8
    }
}
