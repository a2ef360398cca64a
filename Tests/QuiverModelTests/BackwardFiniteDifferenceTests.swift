import Foundation
import QuiverStore
import QuiverTensor
import Testing
@testable import QuiverModel

/// Central finite differences of the loss against the backward pass, for every module and flag, with dropout off
/// and on (a fixed seed gives the same masks to every evaluation): a check of the chain rule that does not rely on
/// the reference library.
///
/// For each group of parameters (a tensor role across layers, then all tensors together), along three directions
/// d with a large component along the group's gradient: the Richardson-extrapolated central difference of L along
/// d equals ∇L·d within 0.2 % of ∇L·d plus its own error estimate (rounding, truncation) — and a gradient scaled by
/// 1.01 in any one group is caught (`check`).
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
            guard case .adapter(let loaded as BottleneckAdapter) = try TaskModel.adapter(
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
            let noise = random.normal(count: parameter.count, standardDeviation: 0.1)
            for i in 0..<parameter.count { parameter.value.pointer[i] += noise[i] }
        }
    }

    /// The loss of a forward pass (in Double), with the same dropout masks at every call, plus the fusion's
    /// regularisation (whose gradient `directionalDerivatives` adds as training steps do).
    static func loss(_ model: TrainableTask, dropout: Bool) throws -> Double {
        var random = SeededGenerator(seed: 99)
        return try model.forwardLoss(batch, dropout: dropout, random: &random) + model.fusionRegularizationExact
    }

    /// A tensor's role: its name without the layer index. Every layer runs the same code, so one direction over all
    /// the tensors of a role tests that role's backward in every layer at once.
    static func role(_ name: String) -> String {
        name.replacingOccurrences(of: #"layer\.[0-9]+\."#, with: "layer.*.", options: .regularExpression)
    }

    /// One directional derivative: the backward pass's ∇L·d against the central difference along d.
    struct Directional {
        var what: String
        var measured: Double
        var predicted: Double
        /// How far the finite difference may be off: float32 rounding of the loss and what extrapolation leaves.
        var noise: Double

        /// Relative to ∇L·d itself: a bound relative to ‖∇L‖ let a 30 % error through, since ∇L·d ≪ ‖∇L‖
        /// along a random direction.
        static let tolerance = 2e-3

        var agrees: Bool { abs(measured - predicted) <= Self.tolerance * abs(predicted) + noise }

        var description: String {
            "finite difference \(measured), backward \(predicted) (relative error \(abs(measured - predicted) / abs(predicted)), noise \(noise))"
        }
    }

    /// The parameter groups tested: one role at a time (the head's only with `headRoles`; elsewhere they
    /// join the all-tensors group), then all tensors together.
    static func groups(_ model: TrainableTask, headRoles: Bool) -> [[Int]] {
        var roles: [String: [Int]] = [:]
        for (index, parameter) in model.parameters.enumerated() { roles[role(parameter.name), default: []].append(index) }
        let tested = roles.keys.filter { headRoles || !$0.hasPrefix("heads.") }
        return tested.sorted().map { roles[$0]! } + [Array(model.parameters.indices)]
    }

    /// Directional derivatives of the groups `only` names (default: every group without dropout, all tensors
    /// together with it), three directions each.
    ///
    /// Each direction has a large component along the group's gradient g — ĝ, (ĝ + r̂₁)/‖·‖, (ĝ − r̂₂)/‖·‖ with
    /// random r — so that ∇L·d stands far above the rounding noise; a group whose gradient is negligible
    /// (analytically zero, like the fusion key's bias under the softmax) is tested along random directions
    /// for a derivative of zero. `wrong` scales the backward gradient of one group, to show the test sees it.
    static func directionalDerivatives(
        _ model: TrainableTask, dropout: Bool, headRoles: Bool, only: [Int]? = nil, wrong: (group: Int, scale: Double)? = nil
    ) throws -> [(group: Int, negligible: Bool, result: Directional)] {
        for parameter in model.parameters { parameter.zeroGradient() }
        var random = SeededGenerator(seed: 99)
        let temperatures = model.temperatures  // a step lowers them; the differences must see the same
        _ = try model.trainStep(batch, dropout: dropout, random: &random)
        model.addRegularization()
        model.temperatures = temperatures
        let gradients = model.parameters.map { $0.gradient.array.map(Double.init) }
        let totalNorm = gradients.joined().reduce(0) { $0 + $1 * $1 }.squareRoot()
        let base = try loss(model, dropout: dropout)
        let allGroups = groups(model, headRoles: headRoles)
        var results: [(group: Int, negligible: Bool, result: Directional)] = []
        random = SeededGenerator(seed: 8)
        for groupIndex in only ?? (dropout ? [allGroups.count - 1] : Array(allGroups.indices)) {
            let group = allGroups[groupIndex]
            let gradient = group.flatMap { gradients[$0] }
            let gradientNorm = gradient.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let negligible = gradientNorm <= 1e-5 * totalNorm
            let unitGradient = negligible ? [Double](repeating: 0, count: gradient.count) : gradient.map { $0 / gradientNorm }
            let randoms = (0..<3).map { _ in unit(random.normal(count: gradient.count, standardDeviation: 1).map(Double.init)) }
            let directions =
                negligible ? randoms : [unitGradient, unit(zip(unitGradient, randoms[0]).map(+)), unit(zip(unitGradient, randoms[1]).map(-))]
            let scale = wrong?.group == groupIndex ? wrong!.scale : 1
            // The largest step changes the loss by about 1 % of itself (at most 4): its float32 rounding is then the
            // same small fraction of ∇L·d in every group. Smaller steps follow; `extrapolated` picks among them.
            let largest = negligible ? 8e-3 : min(1e-2 * max(1, abs(base)) / gradientNorm, 4)
            let what = group.count == model.parameters.count ? "all parameters" : role(model.parameters[group[0]].name)
            for direction in directions {
                let predicted = scale * zip(gradient, direction).reduce(0) { $0 + $1.0 * $1.1 }
                let steps = (0..<5).map { largest / Double(1 << $0) }
                let differences = try steps.map { h in
                    (try loss(model, dropout: dropout, moving: group, by: h, along: direction)
                        - loss(model, dropout: dropout, moving: group, by: -h, along: direction)) / (2 * h)
                }
                let (measured, uncertainty) = extrapolated(differences, steps: steps, loss: base)
                results.append((groupIndex, negligible, Directional(what: what, measured: measured, predicted: predicted, noise: uncertainty)))
            }
        }
        return results
    }

    /// The derivative from central differences at halving steps: Richardson's extrapolation of each pair cancels
    /// their ε² error, and of the extrapolations, the one whose estimated error — its distance to the next (what
    /// truncation leaves) plus float32 rounding, which grows as the step shrinks — is smallest. Returns it with
    /// that error estimate.
    static func extrapolated(_ differences: [Double], steps: [Double], loss: Double) -> (value: Double, uncertainty: Double) {
        let richardson: [Double] = (0..<(differences.count - 1)).map { k in (4 * differences[k + 1] - differences[k]) / 3 }
        // Each loss is off by about an ulp of float32; (4·D(h/2) − D(h)) / 3 magnifies that by about 3 / 2h.
        let ulps = 2 * Double(Float.ulpOfOne) * abs(loss)
        let rounding: [Double] = steps.map { step in 3 * ulps / (2 * step) }
        var best = (value: richardson[0], uncertainty: Double.infinity)
        for k in 0..<(richardson.count - 1) {
            let uncertainty = abs(richardson[k] - richardson[k + 1]) + rounding[k + 1]
            if uncertainty < best.uncertainty { best = (richardson[k], uncertainty) }
        }
        return best
    }

    static func unit(_ v: [Double]) -> [Double] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }

    /// The loss with the tensors of `group` moved by `step` along `direction` (their values concatenated).
    static func loss(_ model: TrainableTask, dropout: Bool, moving group: [Int], by step: Double, along direction: [Double]) throws -> Double {
        let saved = group.map { model.parameters[$0].value.array }
        defer {
            for (index, values) in zip(group, saved) { model.parameters[index].value.pointer.update(from: values, count: values.count) }
        }
        var offset = 0
        for index in group {
            let p = model.parameters[index]
            for i in 0..<p.count { p.value.pointer[i] += Float(step * direction[offset + i]) }
            offset += p.count
        }
        return try loss(model, dropout: dropout)
    }

    /// The backward pass agrees with the finite differences in every group, without and with dropout; and the
    /// same comparison sees a gradient 1 % off in any one group (a test that cannot fail proves nothing).
    static func check(_ model: TrainableTask, _ name: String, headRoles: Bool = false) throws {
        randomize(model, seed: 7)
        var testable = Set<Int>()
        for dropout in [false, true] {
            for (group, negligible, result) in try directionalDerivatives(model, dropout: dropout, headRoles: headRoles) {
                #expect(result.agrees, "\(name) dropout \(dropout), \(result.what): \(result.description)")
                if !dropout, !negligible { testable.insert(group) }
            }
        }
        for group in testable.sorted() {
            let wrong = try directionalDerivatives(model, dropout: false, headRoles: headRoles, only: [group], wrong: (group, 1.01))
            #expect(
                wrong.contains { !$0.result.agrees },
                "\(name), \(wrong[0].result.what): a gradient 1 % too large goes unseen (\(wrong[0].result.description))")
        }
    }
}
