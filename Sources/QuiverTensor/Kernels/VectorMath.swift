// Vectorised elementary functions on eight floats at a time, the building blocks of the activation, softmax and
// normalisation kernels.
//
// Every function here is written with plain multiplies and adds (no `addingProduct`): the package is compiled for
// the baseline x86-64 target, where a fused multiply-add would become a call into libm. Accuracy is measured
// against `Foundation` in double precision by `KernelVectorMathTests` and recorded in docs/kernels.md.

/// Eight floats, the lane count used by every vectorised kernel (two SSE registers or one AVX register).
public typealias FloatVector = SIMD8<Float>

@usableFromInline
enum VectorMath {
    // MARK: - Loads and stores

    @inlinable @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>) -> FloatVector {
        UnsafeRawPointer(pointer).loadUnaligned(as: FloatVector.self)
    }

    @inlinable @inline(__always)
    static func store(_ vector: FloatVector, to pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: vector, as: FloatVector.self)
    }

    /// Loads the `count < 8` floats at `pointer`, the other lanes set to `padding`.
    @inlinable @inline(__always)
    static func loadPartial(_ pointer: UnsafePointer<Float>, count: Int, padding: Float = 0) -> FloatVector {
        var vector = FloatVector(repeating: padding)
        for lane in 0..<count { vector[lane] = pointer[lane] }
        return vector
    }

    /// Stores the first `count < 8` lanes of `vector` at `pointer`.
    @inlinable @inline(__always)
    static func storePartial(_ vector: FloatVector, to pointer: UnsafeMutablePointer<Float>, count: Int) {
        for lane in 0..<count { pointer[lane] = vector[lane] }
    }

    /// Applies `function` to `count` floats from `input` into `output`, eight at a time; the tail goes through the
    /// same vector code (zero-padded) so that every element gets exactly the same arithmetic.
    @inlinable @inline(__always)
    static func map(
        _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int,
        _ function: (FloatVector) -> FloatVector
    ) {
        var index = 0
        while index + FloatVector.scalarCount <= count {
            store(function(load(input + index)), to: output + index)
            index += FloatVector.scalarCount
        }
        if index < count {
            let tail = count - index
            storePartial(function(loadPartial(input + index, count: tail)), to: output + index, count: tail)
        }
    }

    /// Like `map`, with a second input of the same length.
    @inlinable @inline(__always)
    static func map(
        _ first: UnsafePointer<Float>, _ second: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        count: Int, _ function: (FloatVector, FloatVector) -> FloatVector
    ) {
        var index = 0
        while index + FloatVector.scalarCount <= count {
            store(function(load(first + index), load(second + index)), to: output + index)
            index += FloatVector.scalarCount
        }
        if index < count {
            let tail = count - index
            let result = function(loadPartial(first + index, count: tail), loadPartial(second + index, count: tail))
            storePartial(result, to: output + index, count: tail)
        }
    }

    /// `output += function(first, second)` over `count` floats, eight at a time.
    @inlinable @inline(__always)
    static func accumulate(
        _ first: UnsafePointer<Float>, _ second: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>,
        count: Int, _ function: (FloatVector, FloatVector) -> FloatVector
    ) {
        var index = 0
        while index + FloatVector.scalarCount <= count {
            store(load(output + index) + function(load(first + index), load(second + index)), to: output + index)
            index += FloatVector.scalarCount
        }
        if index < count {
            let tail = count - index
            let result = function(loadPartial(first + index, count: tail), loadPartial(second + index, count: tail))
            storePartial(loadPartial(output + index, count: tail) + result, to: output + index, count: tail)
        }
    }

    // MARK: - Lane-wise selection

    // `pointwiseMin`/`pointwiseMax`/`clamped` of the standard library handle NaN lane by lane and compile to scalar
    // code; a comparison and a `replacing` compile to two vector instructions. NaN lanes pass through unchanged.

    /// The lane-wise smaller of `a` and `b` (a where either is NaN).
    @inlinable @inline(__always)
    static func minimum(_ a: FloatVector, _ b: FloatVector) -> FloatVector {
        a.replacing(with: b, where: b .< a)
    }

    /// The lane-wise larger of `a` and `b` (a where either is NaN).
    @inlinable @inline(__always)
    static func maximum(_ a: FloatVector, _ b: FloatVector) -> FloatVector {
        a.replacing(with: b, where: b .> a)
    }

    /// `x` limited to `lower...upper` (NaN lanes unchanged).
    @inlinable @inline(__always)
    static func clamp(_ x: FloatVector, _ lower: Float, _ upper: Float) -> FloatVector {
        maximum(minimum(x, FloatVector(repeating: upper)), FloatVector(repeating: lower))
    }

    /// |x|, by clearing the sign bits.
    @inlinable @inline(__always)
    static func magnitude(_ x: FloatVector) -> FloatVector {
        unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: FloatVector.self)
    }

    // MARK: - exp

    /// e^x, relative error about 2 ulp. Inputs below −87.3 (results near the denormal range, and −∞) give exactly 0;
    /// inputs above 88.3 give about 2.1e38 rather than infinity.
    @inlinable @inline(__always)
    static func exp(_ x: FloatVector) -> FloatVector {
        // x = n·ln2 + r with |r| ≤ ln2/2, e^x = 2^n · e^r.
        let clamped = clamp(x, -87.3, 88.3)
        // Adding 1.5·2^23 rounds to an integer and leaves that integer in the low mantissa bits.
        let roundingMagic = FloatVector(repeating: 12_582_912)
        let shifted = clamped * FloatVector(repeating: 1.442_695_04) + roundingMagic
        let n = shifted - roundingMagic
        // ln2 split in a part exact in float (hi has 9 significant bits) and the remainder, so n·hi is exact.
        var r = clamped - n * FloatVector(repeating: 0.693_359_375)
        r = r - n * FloatVector(repeating: -2.121_944_4e-4)
        // Taylor polynomial of e^r to degree 7 (truncation < 1e-8 for |r| ≤ 0.347).
        var p = FloatVector(repeating: 1.0 / 5040)
        p = p * r + FloatVector(repeating: 1.0 / 720)
        p = p * r + FloatVector(repeating: 1.0 / 120)
        p = p * r + FloatVector(repeating: 1.0 / 24)
        p = p * r + FloatVector(repeating: 1.0 / 6)
        p = p * r + FloatVector(repeating: 0.5)
        p = p * r + FloatVector(repeating: 1)
        p = p * r + FloatVector(repeating: 1)
        // 2^n: the biased exponent n + 127 placed in the exponent field.
        let shiftedBits = unsafeBitCast(shifted, to: SIMD8<UInt32>.self)
        let scaleBits = (shiftedBits &- SIMD8<UInt32>(repeating: 0x4B40_0000 - 127)) &<< 23
        let result = p * unsafeBitCast(scaleBits, to: FloatVector.self)
        return result.replacing(with: FloatVector.zero, where: x .< FloatVector(repeating: -87.3))
    }

    // MARK: - erf and erfc

    /// Below this |z|, erf comes from its Taylor series; above it, from erfc.
    @inlinable static var erfSeriesLimit: Float { 0.75 }

    /// erf(z) for |z| < 0.75 as z·P(z²), the Taylor series to z^19 (truncation < 1e-9 relative).
    @inlinable @inline(__always)
    static func erfSeries(_ z: FloatVector) -> FloatVector {
        // Coefficients 2/√π · (−1)^n / (n!·(2n+1)).
        let z2 = z * z
        var p = FloatVector(repeating: -1.636_584_5e-7)  // n = 9
        p = p * z2 + FloatVector(repeating: 1.646_211_4e-6)
        p = p * z2 + FloatVector(repeating: -1.492_565e-5)
        p = p * z2 + FloatVector(repeating: 1.205_533_3e-4)
        p = p * z2 + FloatVector(repeating: -8.548_327e-4)
        p = p * z2 + FloatVector(repeating: 5.223_977_6e-3)
        p = p * z2 + FloatVector(repeating: -2.686_617_1e-2)
        p = p * z2 + FloatVector(repeating: 0.112_837_92)
        p = p * z2 + FloatVector(repeating: -0.376_126_39)
        p = p * z2 + FloatVector(repeating: 1.128_379_2)
        return z * p
    }

    /// erfc(a) for a ≥ 0: t·exp(−a² + Q(t)) with t = 1/(1 + a/2), the classic Chebyshev fit with fractional error
    /// below 1.2e-7 (Press et al., Numerical Recipes, §6.2).
    @inlinable @inline(__always)
    static func erfcNonNegative(_ a: FloatVector) -> FloatVector {
        let t = 1 / (1 + 0.5 * a)
        var q = FloatVector(repeating: 0.170_872_77)
        q = q * t + FloatVector(repeating: -0.822_152_23)
        q = q * t + FloatVector(repeating: 1.488_515_87)
        q = q * t + FloatVector(repeating: -1.135_203_98)
        q = q * t + FloatVector(repeating: 0.278_868_07)
        q = q * t + FloatVector(repeating: -0.186_288_06)
        q = q * t + FloatVector(repeating: 0.096_784_18)
        q = q * t + FloatVector(repeating: 0.374_091_96)
        q = q * t + FloatVector(repeating: 1.000_023_68)
        q = q * t + FloatVector(repeating: -1.265_512_23)
        return t * exp(q - a * a)
    }

    /// 1 + erf(z), accurate in relative terms on both tails (for z ≪ 0 it is erfc(−z), not 1 − 0.99…): relative
    /// error < 2e-6 for z ≥ −4. Further out the rounding of z² in the exponent grows it (≈ 6e-8·z²), on values
    /// below 1.6e-8. Near 0 no series is needed (unlike `erf`): 1 + erf(z) is near 1 there, and 2 − erfc(|z|)
    /// keeps erfc's 1.2e-7 relative accuracy.
    @inlinable @inline(__always)
    static func onePlusErf(_ z: FloatVector) -> FloatVector {
        let complement = erfcNonNegative(minimum(magnitude(z), FloatVector(repeating: 10)))
        return (2 - complement).replacing(with: complement, where: z .< 0)
    }

    /// erf(z), relative error below 1e-6 (measured in `KernelVectorMathTests`).
    @inlinable @inline(__always)
    static func erf(_ z: FloatVector) -> FloatVector {
        let magnitude = minimum(magnitude(z), FloatVector(repeating: 10))
        let tail = 1 - erfcNonNegative(magnitude)
        let signedTail = tail.replacing(with: -tail, where: z .< 0)
        return signedTail.replacing(with: erfSeries(z), where: magnitude .< FloatVector(repeating: erfSeriesLimit))
    }

    // MARK: - tanh and sigmoid

    /// Below this |x|, tanh comes from its Taylor series.
    @inlinable static var tanhSeriesLimit: Float { 0.5 }

    /// tanh(x), from its Taylor series to x^15 for |x| < 0.5 and from (1 − e^−2|x|)/(1 + e^−2|x|) above.
    @inlinable @inline(__always)
    static func tanh(_ x: FloatVector) -> FloatVector {
        let magnitude = magnitude(x)
        let decay = exp(-2 * magnitude)
        let large = (1 - decay) / (1 + decay)
        let signedLarge = large.replacing(with: -large, where: x .< 0)
        let x2 = x * x
        var p = FloatVector(repeating: -1.455_834_4e-3)  // coefficient of x^15 over x
        p = p * x2 + FloatVector(repeating: 3.592_128e-3)
        p = p * x2 + FloatVector(repeating: -8.863_235e-3)
        p = p * x2 + FloatVector(repeating: 2.186_948_9e-2)
        p = p * x2 + FloatVector(repeating: -5.396_825_4e-2)
        p = p * x2 + FloatVector(repeating: 0.133_333_33)
        p = p * x2 + FloatVector(repeating: -0.333_333_34)
        p = p * x2 + FloatVector(repeating: 1)
        return signedLarge.replacing(with: x * p, where: magnitude .< FloatVector(repeating: tanhSeriesLimit))
    }

    /// 1 / (1 + e^−x).
    @inlinable @inline(__always)
    static func sigmoid(_ x: FloatVector) -> FloatVector {
        1 / (1 + exp(-x))
    }

    // MARK: - Reductions

    @inlinable @inline(__always)
    static func sum(_ pointer: UnsafePointer<Float>, count: Int) -> Float {
        var accumulators = (FloatVector.zero, FloatVector.zero)
        var index = 0
        while index + 16 <= count {
            accumulators.0 += load(pointer + index)
            accumulators.1 += load(pointer + index + 8)
            index += 16
        }
        var total = accumulators.0 + accumulators.1
        if index + 8 <= count {
            total += load(pointer + index)
            index += 8
        }
        if index < count { total += loadPartial(pointer + index, count: count - index) }
        return total.sum()
    }

    @inlinable @inline(__always)
    static func maximum(_ pointer: UnsafePointer<Float>, count: Int) -> Float {
        var best = FloatVector(repeating: -.infinity)
        var index = 0
        while index + 8 <= count {
            best = maximum(best, load(pointer + index))
            index += 8
        }
        if index < count {
            best = maximum(best, loadPartial(pointer + index, count: count - index, padding: -.infinity))
        }
        return best.max()
    }
}
