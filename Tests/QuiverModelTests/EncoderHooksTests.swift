import Foundation
import QuiverStore
import Testing

@testable import QuiverModel

/// The hooks reach the right buffers: a delta added after a projection equals changing that projection's weight;
/// a replaced sublayer equals changing the dense layer before it; per-item hooks touch only their items.
@Suite struct EncoderHooksTests {
    static let tolerance: Float = 1e-4

    /// Adds `input · deltaᵀ` (delta is (outFeatures, inFeatures)) at one site of one layer, for the batch items
    /// in `items` (all when nil): what a LoRA adapter does.
    struct LinearDelta: EncoderHooks {
        var layer: Int
        var site: ProjectionSite
        var delta: [Float]
        var items: Set<Int>? = nil

        func addProjectionDelta(_ context: ProjectionHookContext) {
            guard context.layer == layer, context.site == site else { return }
            precondition(delta.count == context.outFeatures * context.inFeatures)
            for row in 0..<context.slice.rows {
                if let items, !items.contains(context.slice.item(ofRow: row)) { continue }
                for out in 0..<context.outFeatures {
                    var sum: Float = 0
                    for k in 0..<context.inFeatures {
                        sum += context.input[row * context.inFeatures + k] * delta[out * context.inFeatures + k]
                    }
                    context.output[row * context.outputStride + out] += sum
                }
            }
        }
    }

    static func delta(outFeatures: Int, inFeatures: Int) -> [Float] {
        (0..<(outFeatures * inFeatures)).map { Float(($0 * 37) % 11 - 5) * 0.02 }
    }

    /// The encoder whose weight at `site` of `layer` has `delta` added.
    static func modified(_ encoder: BertEncoder, layer index: Int, site: ProjectionSite, delta: [Float]) throws
        -> BertEncoder
    {
        let h = encoder.hiddenSize
        var layers = encoder.weights.layers
        let layer = layers[index]
        switch site {
        case .query: layers[index] = layer.replacing(queryKeyValue: layer.queryKeyValue.adding(delta, toRows: 0..<h))
        case .key:
            layers[index] = layer.replacing(queryKeyValue: layer.queryKeyValue.adding(delta, toRows: h..<(2 * h)))
        case .value:
            layers[index] = layer.replacing(queryKeyValue: layer.queryKeyValue.adding(delta, toRows: (2 * h)..<(3 * h)))
        case .attentionOutput:
            layers[index] = layer.replacing(attentionOutput: layer.attentionOutput.adding(delta, toRows: 0..<h))
        case .intermediate:
            layers[index] = layer.replacing(
                intermediate: layer.intermediate.adding(delta, toRows: 0..<layer.intermediate.outFeatures))
        case .output: layers[index] = layer.replacing(output: layer.output.adding(delta, toRows: 0..<h))
        }
        let weights = BertEncoderWeights(embeddings: encoder.weights.embeddings, layers: layers, pooler: nil)
        return try BertEncoder(config: encoder.config, weights: weights)
    }

    static func shape(of site: ProjectionSite, _ encoder: BertEncoder) -> (out: Int, in: Int) {
        let (h, i) = (encoder.hiddenSize, encoder.config.intermediateSize)
        switch site {
        case .intermediate: return (i, h)
        case .output: return (h, i)
        default: return (h, h)
        }
    }

    @Test(arguments: ProjectionSite.allCases, [1, 2])
    func projectionDeltaEqualsChangedWeight(site: ProjectionSite, threads: Int) throws {
        let encoder = try RandomEncoder.encoder()
        let (out, inFeatures) = Self.shape(of: site, encoder)
        let delta = Self.delta(outFeatures: out, inFeatures: inFeatures)
        // 24 items take the sliced path, the single item the split-product path.
        for lengths in [(0..<24).map { 5 + $0 % 13 }, [11]] {
            let input = try RandomEncoder.input(lengths: lengths, vocab: encoder.config.vocabSize)
            let hooked = try encoder.forward(
                input, hooks: LinearDelta(layer: 1, site: site, delta: delta), threads: threads)
            let expected = try Self.modified(encoder, layer: 1, site: site, delta: delta).forward(
                input, threads: threads)
            let difference = floatDifference(hooked.values, expected.values, tolerance: Self.tolerance)
            #expect(difference == nil, "\(site), \(lengths.count) items: \(difference ?? "")")
            #expect(
                maxAbsDifference(hooked.values, try encoder.forward(input).values) > 1e-3,
                "the delta changes the output")
        }
    }

    /// Computes the sublayer as LayerNorm(2·projected + residual): the same as doubling the dense layer before it.
    struct DoubledSublayer: EncoderHooks {
        var location: SublayerLocation

        func replacesSublayerOutput(layer: Int, location: SublayerLocation) -> Bool {
            layer == 0 && location == self.location
        }

        func sublayerOutput(_ context: SublayerHookContext) {
            let count = context.slice.rows * context.hiddenSize
            for index in 0..<count { context.projected[index] = 2 * context.projected[index] + context.residual[index] }
            context.norm.apply(context.projected, into: context.output, rows: context.slice.rows)
        }
    }

    @Test(arguments: SublayerLocation.allCases)
    func sublayerHookReplacesLayerNormOfSum(location: SublayerLocation) throws {
        let encoder = try RandomEncoder.encoder()
        let input = try RandomEncoder.input(lengths: (0..<20).map { 3 + $0 % 17 }, vocab: encoder.config.vocabSize)
        var layers = encoder.weights.layers
        switch location {
        case .attentionOutput: layers[0] = layers[0].replacing(attentionOutput: layers[0].attentionOutput.scaled(by: 2))
        case .output: layers[0] = layers[0].replacing(output: layers[0].output.scaled(by: 2))
        }
        let doubled = try BertEncoder(
            config: encoder.config,
            weights: BertEncoderWeights(embeddings: encoder.weights.embeddings, layers: layers, pooler: nil))
        let hooked = try encoder.forward(input, hooks: DoubledSublayer(location: location))
        let difference = floatDifference(hooked.values, try doubled.forward(input).values, tolerance: Self.tolerance)
        #expect(difference == nil, "\(location): \(difference ?? "")")
    }

    /// A hook that replaces every sublayer with the standard computation changes nothing, bit for bit.
    struct StandardSublayers: EncoderHooks {
        func replacesSublayerOutput(layer: Int, location: SublayerLocation) -> Bool { true }
    }

    @Test func standardSublayerIsTheDefault() throws {
        let encoder = try RandomEncoder.encoder()
        let input = try RandomEncoder.input(lengths: [6, 9, 2], vocab: encoder.config.vocabSize)
        #expect(try encoder.forward(input, hooks: StandardSublayers()).values == encoder.forward(input).values)
    }

    /// A delta for batch item 5 only: every other item is the base model's, item 5 the changed model's.
    @Test(arguments: [1, 2])
    func mixedBatchChangesOnlyItsItems(threads: Int) throws {
        let encoder = try RandomEncoder.encoder()
        let delta = Self.delta(outFeatures: encoder.hiddenSize, inFeatures: encoder.hiddenSize)
        let input = try RandomEncoder.input(lengths: (0..<24).map { 4 + $0 % 11 }, vocab: encoder.config.vocabSize)
        let hooks = LinearDelta(layer: 0, site: .value, delta: delta, items: [5])
        let mixed = try encoder.forward(input, hooks: hooks, threads: threads)
        let base = try encoder.forward(input, threads: threads)
        let changed = try Self.modified(encoder, layer: 0, site: .value, delta: delta).forward(input, threads: threads)
        let itemSize = input.sequenceLength * encoder.hiddenSize
        for item in 0..<input.batch {
            let range = (item * itemSize)..<((item + 1) * itemSize)
            let expected = item == 5 ? changed.values[range] : base.values[range]
            let difference = floatDifference(Array(mixed.values[range]), Array(expected), tolerance: Self.tolerance)
            #expect(difference == nil, "item \(item): \(difference ?? "")")
        }
    }

    /// What the hooks are told: slices of whole items covering the batch once per site, rows laid out item after
    /// item, and the scratch they asked for.
    final class Recorder: EncoderHooks, @unchecked Sendable {
        let lock = NSLock()
        var slices: [BatchSlice] = []
        var scratchSizes: Set<Int> = []

        func scratchFloats(rows: Int, config: BertConfig) -> Int { rows * 3 }

        func addProjectionDelta(_ context: ProjectionHookContext) {
            guard context.layer == 0, context.site == .query else { return }
            context.scratch.update(repeating: 1)  // all of it is writable
            lock.withLock {
                slices.append(context.slice)
                scratchSizes.insert(context.scratch.count)
            }
        }
    }

    @Test func hooksSeeWholeItemsAndTheirScratch() throws {
        let encoder = try RandomEncoder.encoder()
        let input = try RandomEncoder.input(lengths: (0..<24).map { 4 + $0 % 11 }, vocab: encoder.config.vocabSize)
        let recorder = Recorder()
        _ = try encoder.forward(input, hooks: recorder, threads: 2)
        let slices = recorder.slices.sorted { $0.items.lowerBound < $1.items.lowerBound }
        #expect(slices.flatMap { Array($0.items) } == Array(0..<24))
        #expect(slices.allSatisfy { $0.batch == 24 && $0.layout == input.layout })
        #expect(slices.count > 2, "24 items of ~14 tokens are cut into several slices")
        let largest = slices.map(\.rows).max()!
        #expect(recorder.scratchSizes.allSatisfy { $0 >= largest * 3 })
        let slice = slices[1]
        let t = input.sequenceLength
        #expect(slice.item(ofRow: t) == slice.items.lowerBound + 1)
        #expect(slice.rows(ofItem: slice.items.lowerBound + 1) == t..<(2 * t))
    }

    // MARK: - Running layers in parts

    @Test func layersInPartsEqualTheWholeForward() throws {
        var shape = RandomEncoder.Shape()
        shape.layers = 3
        let encoder = try RandomEncoder.encoder(shape)
        let input = try RandomEncoder.input(lengths: [8, 3, 12], vocab: shape.vocab)
        let whole = try encoder.forward(input)
        var states = try encoder.embeddings(input)
        try encoder.runLayers(0..<1, on: &states)
        var branch = states
        try encoder.runLayers(1..<3, on: &states)
        #expect(states.values == whole.values)
        // A branch that runs the top layers with a hook, from the shared lower layer.
        let delta = Self.delta(outFeatures: shape.hidden, inFeatures: shape.hidden)
        try encoder.runLayers(1..<3, on: &branch, hooks: LinearDelta(layer: 2, site: .key, delta: delta))
        let expected = try encoder.forward(input, hooks: LinearDelta(layer: 2, site: .key, delta: delta))
        #expect(branch.values == expected.values)
        #expect(throws: EncoderError.invalidLayerRange(2..<4, layerCount: 3)) {
            try encoder.runLayers(2..<4, on: &states)
        }
    }
}
