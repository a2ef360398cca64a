import Foundation

// MARK: - Deterministic sample weights for tests, benchmarks and examples

/// Float formats the samples come in, with their element width for ``TensorCodec``.
public enum SampleFloatFormat: String, Sendable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"

    /// Bytes per element: the `elementWidth` to compress these samples with.
    public var elementWidth: Int { self == .f32 ? 4 : 2 }
}

/// Adapter-like weights: little-endian floats drawn from N(0, σ²) with a seeded generator, so a test or
/// benchmark sees the same bytes on every run and machine.
public enum SampleWeights {
    /// `count` normal samples with standard deviation `standardDeviation`, encoded in `format`.
    ///
    /// ```swift
    /// let bytes = SampleWeights.normal(count: 1 << 20, standardDeviation: 0.02, format: .bf16, seed: 7)
    /// ```
    public static func normal(count: Int, standardDeviation: Double, format: SampleFloatFormat, seed: UInt64)
        -> [UInt8]
    {
        var generator = SplitMix64(seed: seed)
        var bytes = [UInt8](repeating: 0, count: count * format.elementWidth)
        bytes.withUnsafeMutableBytes { buffer in
            for index in 0..<count {
                let value = Float(generator.nextGaussian() * standardDeviation)
                switch format {
                case .f32: buffer.storeLittleEndian(value.bitPattern, at: 4 * index)
                case .f16: buffer.storeLittleEndian(HalfPrecision.float16Bits(value), at: 2 * index)
                case .bf16: buffer.storeLittleEndian(HalfPrecision.bfloat16Bits(value), at: 2 * index)
                }
            }
        }
        return bytes
    }
}

// MARK: - Float to 16-bit floats

/// Conversions from `Float` to the bit patterns of IEEE half precision and bfloat16, rounding to nearest even.
public enum HalfPrecision {
    /// The IEEE 754 binary16 bits nearest to `value` (overflow gives ±infinity, NaN stays NaN).
    public static func float16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
        let magnitude = bits & 0x7fff_ffff
        if magnitude > 0x7f80_0000 { return sign | 0x7e00 }  // NaN
        let exponent = Int(magnitude >> 23) - 127 + 15
        if exponent >= 31 { return sign | 0x7c00 }  // too large: infinity
        if exponent <= 0 {  // subnormal in binary16, or zero
            guard exponent >= -10 else { return sign }
            let mantissa = (magnitude & 0x7f_ffff) | 0x80_0000
            return sign | UInt16(roundingShift(mantissa, by: UInt32(14 - exponent)))
        }
        let rounded = roundingShift((UInt32(exponent) << 23) | (magnitude & 0x7f_ffff), by: 13)
        return sign | UInt16(min(rounded, 0x7c00))  // a carry out of the largest finite value is infinity
    }

    /// The bfloat16 bits nearest to `value` (the upper half of the `Float`, rounded; NaN stays NaN).
    public static func bfloat16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if bits & 0x7fff_ffff > 0x7f80_0000 { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        return UInt16(truncatingIfNeeded: roundingShift(bits, by: 16))
    }

    /// `value >> shift`, rounded to nearest with ties to even.
    private static func roundingShift(_ value: UInt32, by shift: UInt32) -> UInt32 {
        let kept = value >> shift
        let dropped = value & ((1 << shift) - 1)
        let half: UInt32 = 1 << (shift - 1)
        return dropped > half || (dropped == half && kept & 1 == 1) ? kept + 1 : kept
    }
}

// MARK: - Generator

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast and good enough for sample data; not for cryptography.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xbf58_476d_1ce4_e5b9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94d0_49bb_1331_11eb
        return mixed ^ (mixed >> 31)
    }

    /// Uniform in (0, 1): 53 random bits, never 0 so a logarithm of it is finite.
    mutating func nextUnitInterval() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1p-53
    }

    /// Standard normal by the Box–Muller transform (one value per call; the twin is dropped for simplicity).
    mutating func nextGaussian() -> Double {
        let radius = (-2 * log(nextUnitInterval())).squareRoot()
        return radius * cos(2 * Double.pi * nextUnitInterval())
    }
}
