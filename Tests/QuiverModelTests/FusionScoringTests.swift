import QuiverTensor
import Testing

@testable import QuiverModel

/// The fusion's query and key products folded into one give the two products' scores.
@Suite struct FusionScoringTests {
    @Test func foldedQueryAndKeyEqualTheTwoProducts() {
        let h = 24
        var random = SeededGenerator(seed: 5)
        func linear() -> LinearWeights {
            LinearWeights(
                weight: FloatBuffer(random.normal(count: h * h, standardDeviation: 0.2)),
                bias: FloatBuffer(random.normal(count: h, standardDeviation: 0.2)), inFeatures: h, outFeatures: h)
        }
        let (query, key) = (linear(), linear())
        let layer = FusionLayerWeights(query: query, key: key, value: nil)
        let folded = try! #require(layer.scoring)
        let x = random.normal(count: 3 * h, standardDeviation: 1)
        // (x·W_qᵀ + b_q)·W_k, in Double
        for row in 0..<3 {
            let q = (0..<h).map { o in Double(query.bias.pointer[o]) + (0..<h).reduce(0.0) { $0 + Double(x[row * h + $1]) * Double(query.weight.pointer[o * h + $1]) } }
            let expected = (0..<h).map { j in (0..<h).reduce(0.0) { $0 + q[$1] * Double(key.weight.pointer[$1 * h + j]) } }
            let got = (0..<h).map { j in Double(folded.bias.pointer[j]) + (0..<h).reduce(0.0) { $0 + Double(x[row * h + $1]) * Double(folded.weight.pointer[j * h + $1]) } }
            for (a, b) in zip(got, expected) { #expect(abs(a - b) <= 1e-4 * max(1, abs(b)), "row \(row): \(a) vs \(b)") }
        }
        #expect(FusionLayerWeights(query: query, key: nil, value: nil).scoring == nil)
    }
}
