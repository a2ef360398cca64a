/// Conversions between stored element types and Float / Int64, bit-exact and platform-independent.
public enum FloatConversion {
    // MARK: - Half precision

    /// IEEE 754 binary16 bits to Float (exact).
    @inlinable
    public static func float(fromHalf bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = Int(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: mantissa × 2^-24.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        }
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        return Float(bitPattern: sign | UInt32(exponent + 112) << 23 | mantissa << 13)
    }

    /// Float to binary16 bits, rounding to nearest even (NaN stays NaN).
    @inlinable
    public static func half(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        var mantissa = bits & 0x7F_FFFF
        if exponent == 0xFF {
            return sign | 0x7C00 | (mantissa != 0 ? 0x200 | UInt16(mantissa >> 13) : 0)
        }
        let halfExponent = exponent - 112
        if halfExponent >= 0x1F { return sign | 0x7C00 }
        if halfExponent <= 0 {
            if halfExponent < -10 { return sign }
            mantissa |= 0x80_0000
            let shift = UInt32(14 - halfExponent)
            let halfway = UInt32(1) << (shift - 1)
            var result = mantissa >> shift
            let remainder = mantissa & ((UInt32(1) << shift) - 1)
            if remainder > halfway || (remainder == halfway && result & 1 == 1) { result += 1 }
            return sign | UInt16(result)
        }
        var result = UInt32(halfExponent) << 10 | mantissa >> 13
        let remainder = mantissa & 0x1FFF
        if remainder > 0x1000 || (remainder == 0x1000 && result & 1 == 1) { result += 1 }
        return sign | UInt16(result)
    }

    // MARK: - bfloat16

    @inlinable
    public static func float(fromBFloat16 bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    /// Float to bfloat16 bits, rounding to nearest even (NaN stays NaN).
    @inlinable
    public static func bfloat16(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x40 }
        let rounding = 0x7FFF + ((bits >> 16) & 1)
        return UInt16((bits &+ rounding) >> 16)
    }

    // MARK: - Buffers

    public static func floats(from bytes: UnsafeRawBufferPointer, dtype: DType) throws(SafetensorsError) -> [Float] {
        switch dtype {
        case .f32: return (0..<(bytes.count / 4)).map { Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        case .f16: return (0..<(bytes.count / 2)).map { float(fromHalf: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
        case .bf16: return (0..<(bytes.count / 2)).map { float(fromBFloat16: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self))) }
        case .f64: return (0..<(bytes.count / 8)).map { Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)))) }
        case .i64, .i32, .i16, .i8, .u8, .u16, .u32, .u64, .bool:
            return try integers(from: bytes, dtype: dtype).map { Float($0) }
        default:
            throw SafetensorsError(.unsupportedConversion, "cannot convert \(dtype.rawValue) to Float")
        }
    }

    public static func integers(from bytes: UnsafeRawBufferPointer, dtype: DType) throws(SafetensorsError) -> [Int64] {
        func load<T: FixedWidthInteger>(_: T.Type) -> [Int64] {
            let width = MemoryLayout<T>.size
            return (0..<(bytes.count / width)).map { Int64(truncatingIfNeeded: T(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * width, as: T.self))) }
        }
        switch dtype {
        case .i64: return load(Int64.self)
        case .i32: return load(Int32.self)
        case .i16: return load(Int16.self)
        case .i8: return load(Int8.self)
        case .u8, .bool: return load(UInt8.self)
        case .u16: return load(UInt16.self)
        case .u32: return load(UInt32.self)
        case .u64:
            let values = load(UInt64.self)
            guard values.allSatisfy({ $0 >= 0 }) else {
                throw SafetensorsError(.unsupportedConversion, "U64 value does not fit in Int64")
            }
            return values
        default:
            throw SafetensorsError(.unsupportedConversion, "cannot read \(dtype.rawValue) as integers")
        }
    }

    public static func bytes(from floats: [Float], dtype: DType) -> [UInt8] {
        switch dtype {
        case .f32: return floats.withUnsafeBytes { Array($0) }
        case .f16: return floats.map { half(from: $0).littleEndian }.withUnsafeBytes { Array($0) }
        case .bf16: return floats.map { bfloat16(from: $0).littleEndian }.withUnsafeBytes { Array($0) }
        default: preconditionFailure("bytes(from:dtype:) supports F32, F16 and BF16, not \(dtype.rawValue)")
        }
    }
}
