import Foundation
import QuiverStore
import QuiverTensor
import Testing
@testable import QuiverModel

/// Every gradient fixture case: loss, logits, the gradient of the last hidden states and every trainable gradient
/// equal the `adapters` library's (PEFT's) within 1e-4 of each tensor's largest value.
@Suite struct GradientParityTests {
    static let caseNames = GradientFixtures.shared.cases.map(\.name)

    @Test(arguments: caseNames)
    func matchesTheReferenceLibrary(_ name: String) throws {
        let fixtures = GradientFixtures.shared
        let testCase = fixtures.testCase(name)
        let model = try fixtures.model(testCase)
        let expected = try SafetensorsFile(path: fixtures.path(testCase.gradients))
        model.capturedStatesGradient = FloatBuffer(count: 0)
        var random = SeededGenerator(seed: 1)
        let (loss, logits) = try model.trainStep(fixtures.batch, dropout: false, random: &random)
        // The regularisation where the fusion has a trainable value matrix, with its gradients (as every step
        // after the first adds them; the expected gradients below include `reg_grad/` for that).
        let regularization = model.addRegularization()

        expectClose([loss], [try expected.floats("loss")[0]], relative: fixtures.tolerance, "\(name) loss")
        if testCase.regularization {
            expectClose([Float(regularization)], [try expected.floats("regularization")[0]], relative: 1e-5, "\(name) regularization")
        } else {
            #expect(regularization == 0)
        }
        expectClose(logits.flatMap { $0 }, try expected.floats("logits"), relative: fixtures.tolerance, "\(name) logits")
        expectClose(
            model.capturedStatesGradient!.array, try expected.floats("d_hidden"), relative: fixtures.tolerance,
            "\(name) d_hidden")

        // Every parameter under each of its names, and nothing else.
        let reserved: Set<String> = ["loss", "logits", "d_logits", "d_hidden", "regularization"]
        let gradientNames = Set(expected.header.tensors.map(\.name)).filter { !reserved.contains($0) && !$0.hasPrefix("reg_grad/") }
        let parameterNames = Set(model.parameters.flatMap { [$0.name] + $0.aliases })
        #expect(parameterNames == gradientNames, "\(name): parameters \(parameterNames.symmetricDifference(gradientNames).sorted()) differ")
        let scale = try gradientNames.map { try expected.floats($0).map(abs).max() ?? 0 }.max() ?? 0
        for parameter in model.parameters {
            for tensorName in [parameter.name] + parameter.aliases where gradientNames.contains(tensorName) {
                var reference = try expected.floats(tensorName)
                if expected.header.tensors.contains(where: { $0.name == "reg_grad/" + tensorName }) {
                    reference = zip(reference, try expected.floats("reg_grad/" + tensorName)).map(+)
                }
                let actual = parameter.gradient.array
                if testCase.analytically_zero.contains(tensorName) {
                    let largest = actual.map { $0.isNaN ? .infinity : abs($0) }.max() ?? 0
                    #expect(largest <= 1e-5 * scale, "\(name) \(tensorName): analytically zero, got \(largest)")
                } else {
                    expectClose(actual, reference, relative: fixtures.tolerance, "\(name) \(tensorName)")
                }
            }
        }
    }

    /// The fixture's batch packed without its padding gives the padded batch's loss, logits, gradient of the hidden
    /// states (token rows) and every trainable gradient: packing changes which rows are computed, not the step.
    @Test(arguments: caseNames)
    func packedBatchGivesThePaddedGradients(_ name: String) throws {
        let fixtures = GradientFixtures.shared
        let testCase = fixtures.testCase(name)
        let padded = fixtures.batch
        let packed = TrainingBatch(input: padded.input.unpadded, labels: padded.labels)
        #expect(packed.input.layout.rows < padded.input.layout.rows)
        func step(_ batch: TrainingBatch) throws -> (loss: Float, logits: [Float], states: [Float], gradients: [String: [Float]]) {
            let model = try fixtures.model(testCase)
            model.capturedStatesGradient = FloatBuffer(count: 0)
            var random = SeededGenerator(seed: 1)
            let (loss, logits) = try model.trainStep(batch, dropout: false, random: &random)
            return (loss, logits.flatMap { $0 }, model.capturedStatesGradient!.array,
                    Dictionary(uniqueKeysWithValues: model.parameters.map { ($0.name, $0.gradient.array) }))
        }
        let (a, b) = (try step(padded), try step(packed))
        expectClose([b.loss], [a.loss], relative: 1e-5, "\(name) loss")
        expectClose(b.logits, a.logits, relative: 1e-5, "\(name) logits")
        expectClose(b.states, padded.input.tokenRows(a.states, width: AdapterFixtures.shared.base.config.hiddenSize), relative: 1e-5, "\(name) d_hidden")
        #expect(Set(a.gradients.keys) == Set(b.gradients.keys))
        // Against the largest gradient of all: some tensors are analytically zero (a fusion's query and key biases),
        // where both sides hold rounding noise.
        let scale = a.gradients.values.flatMap { $0.map(abs) }.max() ?? 0
        for (parameter, gradient) in a.gradients {
            let other = b.gradients[parameter] ?? []
            let largest = zip(other, gradient).map { abs($0 - $1) }.max() ?? 0
            #expect(other.count == gradient.count && largest <= 1e-5 * scale, "\(name) \(parameter): differs by \(largest), scale \(scale)")
        }
    }

    /// The gradients add up: a second step without zeroing doubles them.
    @Test func stepsAccumulateGradients() throws {
        let fixtures = GradientFixtures.shared
        let model = try fixtures.model(fixtures.testCase("seq_bn"))
        var random = SeededGenerator(seed: 1)
        _ = try model.trainStep(fixtures.batch, dropout: false, random: &random)
        let once = model.parameters.map(\.gradient.array)
        _ = try model.trainStep(fixtures.batch, dropout: false, random: &random)
        for (parameter, first) in zip(model.parameters, once) {
            expectClose(parameter.gradient.array, first.map { 2 * $0 }, relative: 1e-6, parameter.name)
        }
    }
}
