import QuiverTensor

/// A BERT-family encoder (post-LN transformer) running on the CPU: embeddings, `layerCount` layers of
/// self-attention and feed-forward, optional pooler. Parity with `transformers`' `BertModel` is checked by
/// fixtures (docs/encoder.md).
///
/// ```swift
/// let model = try BaseModel(folder: "all-MiniLM-L6-v2")
/// let input = EncoderInput(packing: ["a first text", "a second one"].map { model.tokenizer.encode($0, maxLength: 128) })
/// let states = try model.encoder.forward(input)            // (tokens of both, hidden)
/// let sentenceVectors = states.pooled(.mean)
/// ```
///
/// The encoder is immutable and `Sendable`; forward passes may run concurrently. The scratch buffers of the last
/// pass are kept for the next (a pass running meanwhile allocates its own), so that a stream of batches allocates
/// little more than its outputs.
public final class BertEncoder: Sendable {
    public let config: BertConfig
    public let activation: HiddenActivation
    public let weights: BertEncoderWeights
    /// Which implementation runs GELU and the attention softmax.
    public let elementwiseKernels: ElementwiseKernels
    private let workspaces = WorkspacePool()

    /// The threads a forward pass uses unless told otherwise: one per core.
    public static var defaultThreads: Int { Parallel.availableCores }

    /// An encoder for `config` with `weights`.
    ///
    /// - Throws: `EncoderError.unsupportedActivation` for a `hidden_act` this encoder does not implement,
    ///   `.shapeMismatch` when the weights do not have the sizes the config implies.
    public init(
        config: BertConfig, weights: BertEncoderWeights, elementwiseKernels: ElementwiseKernels = .oneDNN
    ) throws(EncoderError) {
        try Self.check(weights, fit: config)
        self.activation = try HiddenActivation(configurationName: config.hiddenAct)
        self.config = config
        self.weights = weights
        self.elementwiseKernels = elementwiseKernels
    }

    public var hiddenSize: Int { config.hiddenSize }
    public var layerCount: Int { config.layerCount }

    /// Frees the scratch buffers kept from earlier passes.
    public func releaseWorkspaces() { workspaces.removeAll() }

    // MARK: - Forward

    /// The last hidden states of `input`: embeddings, then every layer.
    ///
    /// - Throws: `EncoderError` for an id, type id or length the model does not have.
    public func forward(_ input: EncoderInput, threads: Int = defaultThreads) throws(EncoderError) -> HiddenStates {
        try forward(input, hooks: NoEncoderHooks(), threads: threads)
    }

    /// The last hidden states of `input`, with `hooks` plugged into every layer.
    public func forward<Hooks: EncoderHooks>(
        _ input: EncoderInput, hooks: Hooks, threads: Int = defaultThreads
    ) throws(EncoderError) -> HiddenStates {
        try validate(input)
        var states = HiddenStates(zerosFor: input, hiddenSize: hiddenSize)
        run(&states, embedding: input, layers: 0..<layerCount, hooks: hooks, threads: threads)
        return states
    }

    /// The embedding output of `input` — the input of layer 0 — without running any layer.
    public func embeddings(_ input: EncoderInput, threads: Int = defaultThreads) throws(EncoderError) -> HiddenStates {
        try validate(input)
        var states = HiddenStates(zerosFor: input, hiddenSize: hiddenSize)
        run(&states, embedding: input, layers: 0..<0, hooks: NoEncoderHooks(), threads: threads)
        return states
    }

    /// Runs layers `layers` (e.g. `0..<4`, then `4..<6` per task) over `states`, in place: the way several tasks
    /// share the base's lower layers and branch.
    ///
    /// - Throws: `EncoderError.invalidLayerRange` or `.shapeMismatch` for states of another width.
    public func runLayers<Hooks: EncoderHooks>(
        _ layers: Range<Int>, on states: inout HiddenStates, hooks: Hooks, threads: Int = defaultThreads
    ) throws(EncoderError) {
        guard layers.lowerBound >= 0, layers.upperBound <= layerCount else {
            throw .invalidLayerRange(layers, layerCount: layerCount)
        }
        guard states.hiddenSize == hiddenSize else {
            throw .shapeMismatch("hidden states of width \(states.hiddenSize) for a model of width \(hiddenSize)")
        }
        run(&states, embedding: nil, layers: layers, hooks: hooks, threads: threads)
    }

    /// `runLayers` without hooks.
    public func runLayers(
        _ layers: Range<Int>, on states: inout HiddenStates, threads: Int = defaultThreads
    ) throws(EncoderError) {
        try runLayers(layers, on: &states, hooks: NoEncoderHooks(), threads: threads)
    }

    /// BERT's pooler output, `tanh(W·h_[CLS] + b)` per item, or nil when the checkpoint has no pooler.
    public func pooler(_ states: HiddenStates) -> [[Float]]? {
        guard let pooler = weights.pooler else { return nil }
        return states.pooled(.cls).map { first in
            var output = [Float](repeating: 0, count: pooler.outFeatures)
            first.withUnsafeBufferPointer { x in
                output.withUnsafeMutableBufferPointer { y in
                    Linear.forward(
                        x.baseAddress!, weight: pooler.weight.readPointer, bias: pooler.bias.readPointer,
                        into: y.baseAddress!, rows: 1, inFeatures: pooler.inFeatures, outFeatures: pooler.outFeatures)
                    Activation.tanh(y.baseAddress!, into: y.baseAddress!, count: pooler.outFeatures)
                }
            }
            return output
        }
    }

    // MARK: - Checks

    /// Every buffer has the size `config` implies.
    private static func check(_ weights: BertEncoderWeights, fit config: BertConfig) throws(EncoderError) {
        let (h, i) = (config.hiddenSize, config.intermediateSize)
        guard weights.layers.count == config.layerCount else {
            throw .shapeMismatch("\(weights.layers.count) layers of weights for a \(config.layerCount)-layer config")
        }
        let embeddings = weights.embeddings
        guard embeddings.words.count == config.vocabSize * h, embeddings.positions.count == config.usablePositions * h,
            embeddings.tokenTypes.count == config.typeVocabSize * h, embeddings.norm.size == h
        else { throw .shapeMismatch("embedding tables do not match the config's sizes") }
        for (index, layer) in weights.layers.enumerated() {
            let linears: [(LinearWeights, Int, Int)] = [
                (layer.queryKeyValue, h, 3 * h), (layer.attentionOutput, h, h), (layer.intermediate, h, i),
                (layer.output, i, h),
            ]
            guard linears.allSatisfy({ $0.0.inFeatures == $0.1 && $0.0.outFeatures == $0.2 }),
                layer.attentionNorm.size == h, layer.outputNorm.size == h
            else { throw .shapeMismatch("layer \(index)'s weights do not match the config's sizes") }
        }
        if let pooler = weights.pooler, pooler.inFeatures != h || pooler.outFeatures != h {
            throw .shapeMismatch("the pooler's weights do not match the config's hidden size")
        }
    }

    private func validate(_ input: EncoderInput) throws(EncoderError) {
        guard input.sequenceLength <= config.usablePositions else {
            throw .sequenceTooLong(length: input.sequenceLength, maxPositions: config.usablePositions)
        }
        for item in 0..<input.batch {
            for (position, row) in input.layout.rows(of: item).enumerated() {
                let id = Int(input.ids[row])
                if id < 0 || id >= config.vocabSize {
                    throw .tokenIDOutOfRange(item: item, position: position, id: id, vocabSize: config.vocabSize)
                }
                let typeID = Int(input.typeIds[row])
                if typeID < 0 || typeID >= config.typeVocabSize {
                    throw .tokenTypeOutOfRange(
                        item: item, position: position, typeID: typeID, typeVocabSize: config.typeVocabSize)
                }
            }
        }
    }

    // MARK: - Running slices

    /// Embeds `input` into `states` (when given), then runs `layers`: the workers of the plan take its slices one
    /// after the other, each through every layer.
    private func run<Hooks: EncoderHooks>(
        _ states: inout HiddenStates, embedding input: EncoderInput?, layers: Range<Int>, hooks: Hooks,
        threads: Int
    ) {
        let layout = states.layout
        guard layout.rows > 0, input != nil || !layers.isEmpty else { return }
        let plan = ForwardPlan(layout: layout, threads: threads)

        let masks = AttentionMasks(attentionMask: states.attentionMask, layout: layout)
        let buffers = workspaces.borrow(
            plan, hidden: hiddenSize, intermediateSize: config.intermediateSize,
            attentionPrefix: hooks.largestAttentionPrefix
        ) {
            hooks.scratchFloats(rows: $0, config: config)
        }
        defer { workspaces.giveBack(buffers) }
        let ids = input?.ids ?? []
        let typeIds = input?.typeIds ?? []
        let queue = SliceQueue(count: plan.slices.count)
        let embeds = input != nil
        states.values.withUnsafeMutableBufferPointer { values in
            ids.withUnsafeBufferPointer { ids in
                typeIds.withUnsafeBufferPointer { typeIds in
                    nonisolated(unsafe) let (values, ids, typeIds) = (
                        values.baseAddress!, ids.baseAddress, typeIds.baseAddress
                    )
                    Parallel.forEachChunk(of: plan.workers, threads: plan.workers) { workers in
                        for worker in workers {
                            while let index = queue.take() {
                                let slice = BatchSlice(items: plan.slices[index], layout: layout)
                                guard slice.rows > 0 else { continue }
                                let pass = SlicePass(
                                    config: config, weights: weights, activation: activation, hooks: hooks,
                                    slice: slice, hidden: values + slice.firstRow * hiddenSize, masks: masks,
                                    buffers: buffers[worker], threading: plan.threading,
                                    headThreads: plan.headThreads, elementwiseKernels: elementwiseKernels)
                                if embeds, let ids, let typeIds {
                                    pass.embed(ids: ids + slice.firstRow, typeIds: typeIds + slice.firstRow)
                                }
                                for layer in layers { pass.runLayer(layer) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The implementation of the element-wise steps that are not products: GELU and the attention softmax.
public enum ElementwiseKernels: String, Sendable, CaseIterable {
    /// oneDNN's primitives, generated at run time for the machine's vector unit (AVX2/AVX-512), and on AVX-512 the
    /// attention of a head in one call (`Attention.FusedHead`): the default. Where oneDNN cannot create one, the
    /// Swift kernel runs instead.
    case oneDNN
    /// QuiverTensor's Swift kernels (`Activation.gelu`, `Softmax.forward`), compiled for the baseline target.
    case swift
}
