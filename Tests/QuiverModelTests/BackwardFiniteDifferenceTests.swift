import Foundation
import QuiverStore
import QuiverTensor
import Testing
@testable import QuiverModel

/// Central finite differences of the loss against the backward pass, for every module and flag, with dropout off
/// and on (a fixed seed gives the same masks to every evaluation): a check of the chain rule that does not rely on
/// the reference library.
///
/// For each parameter tensor p, along a random unit direction d: (L(p + εd) − L(p − εd)) / 2ε ≈ ∇L·d within
/// 1e-2·‖∇_p L‖ (float32 forward passes), and once along a direction over all tensors together.
@Suite struct BackwardFiniteDifferenceTests {
    static let base = AdapterFixtures.shared.base
    /// Items 0, 2 and 3 of the fixtures' batch (7, 13 and 3 tokens), cut to 13 positions: padding stays, and each
    /// of the many passes costs a quarter of the whole batch's.
    static let batch: TrainingBatch = {
        let input = AdapterFixtures.shared.input
        let (items, length) = ([0, 2, 3], 13)
        func cut(_ values: [Int32]) -> [Int32] {
            items.flatMap { values[($0 * input.sequenceLength)..<($0 * input.sequenceLength + length)] }
        }
        let small = try! EncoderInput(
            batch: items.count, sequenceLength: length, ids: cut(input.ids), typeIds: cut(input.typeIds),
            attentionMask: cut(input.attentionMask))
        return TrainingBatch(input: small, labels: [0, 2, 1])
    }()

    static func bottleneck(_ fields: [(String, JSONValue)], name: String = "fd") throws -> TrainableTask {
        var json: [(key: String, value: JSONValue)] = [("reduction_factor", .integer(4)), ("non_linearity", .string("gelu"))]
        json += fields.map { (key: $0.0, value: $0.1) }
        let config = try BottleneckConfig(json: .object(json), source: "test")
        return try TrainableTask.bottleneck(
            name: name, config: config, labels: ["a", "b", "c"], base: base.encoder, baseName: "tiny", seed: 3)
    }

    /// Every flag at least once; flags with independent code paths share a case.
    static let bottleneckCases: [(String, [(String, JSONValue)])] = [
        ("gelu, ln_after", [("ln_after", .bool(true))]),
        ("relu, residual_before_ln false", [("non_linearity", .string("relu")), ("residual_before_ln", .bool(false))]),
        ("swish, mh + output, original_ln_before false", [("mh_adapter", .bool(true)), ("non_linearity", .string("swish")), ("original_ln_before", .bool(false))]),
        ("ln_before, ln_after, adapter_residual_before_ln", [("ln_before", .bool(true)), ("ln_after", .bool(true)), ("adapter_residual_before_ln", .bool(true))]),
        ("scaling learned, original_ln_after false", [("scaling", .string("learned")), ("original_ln_after", .bool(false))]),
        ("scaling channel, sigmoid", [("scaling", .string("channel")), ("non_linearity", .string("sigmoid"))]),
        ("scaling 0.5, tanh", [("scaling", .number(0.5)), ("non_linearity", .string("tanh"))]),
        ("residual_before_ln post_add", [("residual_before_ln", .string("post_add"))]),
        ("mh only, leave_out 0", [("mh_adapter", .bool(true)), ("output_adapter", .bool(false)), ("leave_out", .array([.integer(0)]))]),
    ]

    @Test(arguments: bottleneckCases.map(\.0))
    func bottleneckFlags(_ name: String) throws {
        let fields = Self.bottleneckCases.first { $0.0 == name }!.1
        let model = try Self.bottleneck(fields)
        model.dropout.adapter = 0.2
        try Self.check(model, name)
    }

    @Test func loraEverywhereWithDropout() throws {
        let config = try LoRAConfig(
            adaptersJSON: .object([
                ("r", .integer(3)), ("alpha", .integer(6)), ("attn_matrices", .array([.string("q"), .string("k"), .string("v")])),
                ("intermediate_lora", .bool(true)), ("output_lora", .bool(true)), ("dropout", .number(0.1)),
            ]), source: "test")
        let model = try TrainableTask.lora(
            name: "fd", config: config, labels: ["a", "b", "c"], base: Self.base.encoder, baseName: "tiny", headLayers: 1,
            seed: 4)
        #expect(model.dropout.lora == Float(0.1))
        try Self.check(model, "lora")
    }

    static let fusionCases: [(String, [(String, JSONValue)], Bool)] = [
        ("dynamic", [], false),
        ("static", [("value", .bool(false))], false),
        ("residual_before", [("residual_before", .bool(true))], false),
        ("query_before_ln", [("query_before_ln", .bool(true))], false),
        ("temperature", [("temperature", .bool(true))], false),
        ("no key", [("key", .bool(false))], false),
        ("no query", [("query", .bool(false))], false),
        ("dynamic, members unfrozen", [], true),
    ]

    @Test(arguments: fusionCases.map(\.0))
    func fusionFlags(_ name: String) throws {
        let (_, fields, unfreeze) = Self.fusionCases.first { $0.0 == name }!
        var json: [(key: String, value: JSONValue)] = [("value_initialized", .bool(true)), ("dropout_prob", .number(0.2))]
        json += fields.map { (key: $0.0, value: $0.1) }
        let config = try FusionConfig(json: .object(json), source: "test")
        let members = try ["m1", "m2", "m3"].enumerated().map { index, member in
            let adapter = try Self.bottleneck(
                index == 1 ? [("ln_after", .bool(true)), ("scaling", .string("learned"))] : [("mh_adapter", .bool(index == 2))],
                name: member)
            Self.randomize(adapter, seed: UInt64(10 + index))
            guard case .bottleneck(let loaded) = try TaskModel.adapter(
                name: member, files: try adapter.exportFiles(), source: member, base: Self.base.config).composition
            else { throw QuiverError(.invalidInput, "not a bottleneck") }
            return (name: member, adapter: loaded)
        }
        let model = try TrainableTask.fusion(
            members: members, config: config, labels: ["a", "b", "c"], base: Self.base.encoder, baseName: "tiny",
            unfreezeMembers: unfreeze, seed: 5)
        try Self.check(model, "fusion \(name)")
    }

    @Test(arguments: [1, 2, 3])
    func headOnly(_ layers: Int) throws {
        var builder = ModelBuilder(seed: 6, hidden: Self.base.config.hiddenSize)
        let head = builder.head(name: "h", labels: ["a", "b", "c"], layers: layers, loaded: nil, file: "model_head.safetensors")
        let model = TrainableTask.make(
            base: Self.base.encoder, builder: builder, sublayers: [:], lora: [:], head: head,
            dropout: TrainableTask.dropout(base: Self.base.config, head: nil))
        try Self.check(model, "head \(layers)", headRoles: true)
    }

    @Test func peftSequenceClassifier() throws {
        let fixtures = GradientFixtures.shared
        let model = try fixtures.model(fixtures.testCase("peft_lora"))
        try Self.check(model, "peft", headRoles: true)
    }

    /// The encoder's feed-forward activations (the base passes activation gradients through them).
    @Test(arguments: HiddenActivation.allCases)
    func hiddenActivationDerivatives(_ activation: HiddenActivation) {
        let inputs: [Float] = stride(from: -4, through: 4, by: 0.37).map { Float($0) }
        var gradient = [Float](repeating: 0, count: inputs.count)
        let ones = [Float](repeating: 1, count: inputs.count)
        activation.backward(input: inputs, outputGradient: ones, inputGradient: &gradient, count: inputs.count)
        for (x, derivative) in zip(inputs, gradient) {
            let h: Float = 1e-2
            var values = [x + h, x - h]
            activation.apply(&values, count: 2)
            let measured = (values[0] - values[1]) / (2 * h)
            #expect(abs(measured - derivative) <= 2e-3, "\(activation) at \(x): finite difference \(measured), backward \(derivative)")
        }
    }

    // MARK: - Helpers

    /// Moves every parameter away from its initial value (LoRA's B starts at 0, the value matrix at I).
    static func randomize(_ model: TrainableTask, seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        for parameter in model.parameters {
            let noise = random.normal(count: parameter.count, standardDeviation: 0.3)
            for i in 0..<parameter.count { parameter.value.pointer[i] += noise[i] }
        }
    }

    /// The loss of a forward pass (in Double), with the same dropout masks at every call.
    static func loss(_ model: TrainableTask, dropout: Bool) throws -> Double {
        var random = SeededGenerator(seed: 99)
        return try model.forwardLoss(batch, dropout: dropout, random: &random)
    }

    /// A tensor's role: its name without the layer index. Every layer runs the same code, so one direction over all
    /// the tensors of a role tests that role's backward in every layer at once.
    static func role(_ name: String) -> String {
        name.replacingOccurrences(of: #"layer\.[0-9]+\."#, with: "layer.*.", options: .regularExpression)
    }

    static func check(_ model: TrainableTask, _ name: String, headRoles: Bool = false) throws {
        randomize(model, seed: 7)
        var roles: [String: [Int]] = [:]
        for (index, parameter) in model.parameters.enumerated() { roles[role(parameter.name), default: []].append(index) }
        for dropout in [false, true] {
            for parameter in model.parameters { parameter.zeroGradient() }
            var random = SeededGenerator(seed: 99)
            let temperatures = model.temperatures  // a step lowers them; the differences must see the same
            _ = try model.trainStep(batch, dropout: dropout, random: &random)
            model.temperatures = temperatures
            let gradients = model.parameters.map(\.gradient.array)
            random = SeededGenerator(seed: 8)
            let directions = model.parameters.map { random.normal(count: $0.count, standardDeviation: 1) }
            // One role at a time (without dropout), then all tensors together.
            // The head's roles are tested by `headOnly`; elsewhere they only join the all-tensors direction.
            let tested = roles.keys.filter { headRoles || !$0.hasPrefix("heads.") }
            var groups: [[Int]] = dropout ? [] : tested.sorted().map { roles[$0]! }
            groups.append(Array(model.parameters.indices))
            let base = try loss(model, dropout: dropout)
            for group in groups {
                let norm = group.flatMap { directions[$0] }.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
                let predicted = group.reduce(0.0) { sum, index in
                    sum + zip(gradients[index], directions[index]).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } / norm
                }
                let gradientNorm = group.flatMap { gradients[$0] }.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
                let epsilon = 4e-3
                func shifted(_ sign: Double) throws -> Double {
                    let saved = group.map { model.parameters[$0].value.array }
                    for index in group {
                        let p = model.parameters[index]
                        for i in 0..<p.count { p.value.pointer[i] += Float(sign * epsilon * Double(directions[index][i]) / norm) }
                    }
                    defer {
                        for (index, values) in zip(group, saved) { model.parameters[index].value.pointer.update(from: values, count: values.count) }
                    }
                    return try loss(model, dropout: dropout)
                }
                let measured = (try shifted(1) - shifted(-1)) / (2 * epsilon)
                let what = group.count == model.parameters.count ? "all parameters" : role(model.parameters[group[0]].name)
                // float32 forward passes: the loss carries a few roundings, which the division by 2ε magnifies
                let noise = 4 * Double(Float.ulpOfOne) * abs(base) / (2 * epsilon)
                #expect(
                    abs(measured - predicted) <= 1e-2 * gradientNorm + noise,
                    "\(name) dropout \(dropout), \(what): finite difference \(measured), backward \(predicted) (‖∇‖ \(gradientNorm))")
            }
        }
    }
}
