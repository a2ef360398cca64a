import Testing

@testable import QuiverTensor

// MARK: - Deterministic random numbers

/// SplitMix64: a small seeded generator, so every test run sees the same inputs.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomFloats(_ count: Int, in range: ClosedRange<Float> = -1...1, seed: UInt64) -> [Float] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Float.random(in: range, using: &generator) }
}

// MARK: - Comparing buffers

/// The largest absolute difference, and the indices where `|actual − expected| > absolute + relative·|expected|`.
struct Comparison {
    var maxAbsoluteError: Float = 0
    var failures: [Int] = []
}

func compare(_ actual: [Float], _ expected: [Float], absolute: Float, relative: Float = 0) -> Comparison {
    var comparison = Comparison()
    for index in expected.indices {
        let difference = abs(actual[index] - expected[index])
        if difference.isNaN || actual[index].isNaN != expected[index].isNaN {
            if !(actual[index].isNaN && expected[index].isNaN) { comparison.failures.append(index) }
            continue
        }
        comparison.maxAbsoluteError = max(comparison.maxAbsoluteError, difference)
        if difference > absolute + relative * abs(expected[index]) { comparison.failures.append(index) }
    }
    return comparison
}

/// Records an issue that shows the first differing values side by side and the max-abs error, as llm.c's tests do.
func expectClose(
    _ actual: [Float], _ expected: [Float], absolute: Float, relative: Float = 0, _ label: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual.count == expected.count else {
        Issue.record("\(label): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    let comparison = compare(actual, expected, absolute: absolute, relative: relative)
    guard !comparison.failures.isEmpty else { return }
    let firstFailures = comparison.failures.prefix(5).map { index in
        "[\(index)] \(actual[index]) vs \(expected[index])"
    }
    Issue.record(
        """
        \(label): \(comparison.failures.count) of \(expected.count) values differ beyond \(absolute) + \(relative)·|x|; \
        max abs error \(comparison.maxAbsoluteError); first: \(firstFailures.joined(separator: ", "))
        """, sourceLocation: sourceLocation)
}

// MARK: - Finite differences

/// Central differences of `Σ_i weights[i]·f(x)[i]` with respect to each input, computed in Float by `forward`.
func numericalGradient(
    of forward: ([Float]) -> [Float], at input: [Float], weights: [Float], step: Float = 1e-2
) -> [Float] {
    func loss(_ x: [Float]) -> Double {
        zip(forward(x), weights).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
    var gradient = [Float](repeating: 0, count: input.count)
    var probe = input
    for index in input.indices {
        probe[index] = input[index] + step
        let up = loss(probe)
        probe[index] = input[index] - step
        let down = loss(probe)
        probe[index] = input[index]
        gradient[index] = Float((up - down) / (2 * Double(step)))
    }
    return gradient
}

// MARK: - Pointer conveniences

/// Runs `body` with a read-only pointer to each array.
func withPointers<R>(
    _ a: [Float], _ body: (UnsafePointer<Float>) throws -> R
) rethrows -> R {
    try a.withUnsafeBufferPointer { try body($0.baseAddress!) }
}

/// Fills a new array of `count` floats through `body`, starting from `initial`.
func filled(_ count: Int, initial: Float = 0, _ body: (UnsafeMutablePointer<Float>) throws -> Void) rethrows -> [Float]
{
    var result = [Float](repeating: initial, count: count)
    try result.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    return result
}
