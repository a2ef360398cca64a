/// SplitMix64: a small, fast generator whose sequence is fixed by its seed on every platform.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform Double in [0, 1) from the top 53 bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Normal samples by the Box–Muller transform.
    public mutating func normal(count: Int, standardDeviation: Float, mean: Float = 0) -> [Float] {
        var values: [Float] = []
        values.reserveCapacity(count)
        while values.count < count {
            let u1 = max(nextUnit(), 1e-300), u2 = nextUnit()
            let radius = (-2 * _log(u1)).squareRoot()
            values.append(mean + standardDeviation * Float(radius * _cos(2 * Double.pi * u2)))
            if values.count < count { values.append(mean + standardDeviation * Float(radius * _sin(2 * Double.pi * u2))) }
        }
        return values
    }
}

#if canImport(Glibc)
import Glibc
private func _log(_ x: Double) -> Double { Glibc.log(x) }
private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
private func _sin(_ x: Double) -> Double { Glibc.sin(x) }
#else
import Foundation
private func _log(_ x: Double) -> Double { Foundation.log(x) }
private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
private func _sin(_ x: Double) -> Double { Foundation.sin(x) }
#endif
