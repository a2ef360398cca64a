import Testing

@testable import QuiverTensor

@Suite("Activations")
struct KernelActivationTests {
    static let inputs: [Float] = randomFloats(1_003, in: -6...6, seed: 7) + [0, -0, 1e-7, -1e-7, 12, -12, 30, -30]

    @Test("fast kernels match the Double references", arguments: Nonlinearity.allCases)
    func forward(_ function: Nonlinearity) {
        let name = function.rawValue
        let inputs = Self.inputs
        let expected = filled(inputs.count) { out in
            withPointers(inputs) { Activation.Reference.forward(function, $0, out, inputs.count) }
        }
        let fast = { (x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, n: Int) in
            function.apply(x, into: y, count: n)
        }
        let actual = filled(inputs.count) { out in withPointers(inputs) { fast($0, out, inputs.count) } }
        expectClose(actual, expected, absolute: 2e-7, relative: 1e-6, name)
        // In place gives the same values.
        var inPlace = inputs
        inPlace.withUnsafeMutableBufferPointer { fast(UnsafePointer($0.baseAddress!), $0.baseAddress!, inputs.count) }
        expectClose(inPlace, actual, absolute: 0, "\(name) in place")
    }

    @Test("GELU is the exact erf form, not the tanh approximation")
    func geluIsExact() {
        // At x = 1: exact 0.841344746, tanh approximation 0.841191990.
        let output = filled(1) { out in withPointers([1]) { Activation.gelu($0, into: out, count: 1) } }
        #expect(abs(output[0] - 0.841_344_75) < 1e-6, "gelu(1) = \(output[0])")
    }

    @Test("backward kernels match finite differences and the references", arguments: Nonlinearity.allCases)
    func backward(_ function: Nonlinearity) {
        let inputs = randomFloats(37, in: -3...3, seed: 11).map { abs($0) < 0.05 ? $0 + 0.1 : $0 }  // ReLU kink
        let weights = randomFloats(37, seed: 12)
        let forward: ([Float]) -> [Float] = { x in
            filled(x.count) { out in withPointers(x) { Activation.Reference.forward(function, $0, out, x.count) } }
        }
        let outputs = forward(inputs)
        let analytic = filled(inputs.count, initial: 0.25) { gradient in
            withPointers(inputs) { x in
                withPointers(outputs) { y in
                    withPointers(weights) { w in
                        function.backward(input: x, output: y, outputGradient: w, inputGradient: gradient, count: 37)
                    }
                }
            }
        }.map { $0 - 0.25 }  // backward accumulates onto what is there
        let numeric = numericalGradient(of: forward, at: inputs, weights: weights, step: 1e-2)
        expectClose(analytic, numeric, absolute: 2e-3, relative: 2e-3, "\(function) backward vs finite differences")
    }

    @Test("configuration names")
    func names() {
        #expect(Nonlinearity(configurationName: "swish") == .silu)
        #expect(Nonlinearity(configurationName: "GELU") == .gelu)
        #expect(Nonlinearity(configurationName: "gelu_new") == nil)
    }
}

extension Activation.Reference {
    static func forward(
        _ function: Nonlinearity, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ count: Int
    ) {
        switch function {
        case .relu: relu(input, into: output, count: count)
        case .gelu: gelu(input, into: output, count: count)
        case .silu: silu(input, into: output, count: count)
        case .tanh: tanh(input, into: output, count: count)
        case .sigmoid: sigmoid(input, into: output, count: count)
        }
    }
}
