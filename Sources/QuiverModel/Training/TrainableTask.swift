import Foundation
import QuiverTensor

/// A task model in training: a frozen base encoder, the adapter, LoRA or fusion plugged into it, and a
/// classification head. Implements `TrainableModel`.
///
/// ```swift
/// let model = try TrainableTask.bottleneck(
///     name: "sentiment", config: .preset("seq_bn")!, reductionFactor: 16, labels: ["neg", "pos"],
///     base: base.encoder, seed: 1)
/// var random = SeededGenerator(seed: 1)
/// let (loss, _) = try model.trainStep(batch, dropout: true, random: &random)
/// // … optimiser step on model.parameters, zero the gradients …
/// let files = try model.exportFiles()     // adapter_config.json, adapter.safetensors, head files
/// ```
///
/// A step cuts the batch into slices of whole items and runs them on `threads` threads, each slice forward and
/// backward on its own (docs/training.md); the gradients are summed in slice order, so a seeded run is repeatable bit
/// for bit. Not for concurrent use: one step at a time.
public final class TrainableTask: TrainableModel, @unchecked Sendable {
    public let encoder: BertEncoder
    public let parameters: [Parameter]
    /// The labels of the head, in logit order.
    public var labels: [String] { network.head.labels }
    /// The dropout probabilities a step applies when asked to (from the configurations; see docs/training.md).
    public var dropout: DropoutProbabilities
    /// The threads a step uses.
    public var threads: Int = Parallel.availableCores

    let network: TrainingNetwork
    let export: ExportPlan
    /// The fusion layers' softmax temperatures: 50 then lowered by 0.05 after each training step down to 1, when the
    /// fusion config has `temperature` (the library lowers it after every forward call; see docs/training.md).
    var temperatures: [AdapterSite: Float]
    private let temperatureStep: Float

    /// Where slices keep their activations between steps, and the gradients of slices after the first.
    private var arenas: [TrainingArena] = []
    private var sinks: [GradientSink] = []
    /// For tests: the gradient of the last hidden states of the last step (batch, T, hidden) when set to non-nil.
    var capturedStatesGradient: FloatBuffer?

    init(encoder: BertEncoder, network: TrainingNetwork, parameters: [Parameter], dropout: DropoutProbabilities, export: ExportPlan) {
        self.encoder = encoder
        self.network = network
        for (index, parameter) in parameters.enumerated() { parameter.index = index }
        self.parameters = parameters
        self.dropout = dropout
        self.export = export
        var temperatures: [AdapterSite: Float] = [:]
        var step: Float = 0
        for (site, module) in network.sublayers {
            if case .fusion(let fusion, _) = module {
                temperatures[site] = fusion.config.temperature
                step = fusion.config.temperature / 1000
            }
        }
        self.temperatures = temperatures
        temperatureStep = step
    }

    // MARK: - TrainableModel

    public func trainStep(_ batch: TrainingBatch, dropout: Bool, random: inout SeededGenerator) throws -> (
        loss: Float, logits: [[Float]]
    ) {
        try validate(batch.input)
        guard batch.labels.count == batch.input.batch else {
            throw QuiverError(.invalidInput, "\(batch.labels.count) labels for a batch of \(batch.input.batch)")
        }
        let classes = labels.count
        if let bad = batch.labels.firstIndex(where: { $0 < 0 || $0 >= classes }) {
            throw QuiverError(.invalidInput, "label \(batch.labels[bad]) of item \(bad) is not in 0..<\(classes)")
        }
        let stepDropout = dropout ? StepDropout(seed: random.next(), probabilities: self.dropout) : nil
        let (loss, logits) = run(batch.input, labels: batch.labels, dropout: stepDropout)
        for site in temperatures.keys { temperatures[site] = max(temperatures[site]! - temperatureStep, 1) }
        return (Float(loss), logits)
    }

    /// For tests: the loss `trainStep` would return, in Double, from a forward pass alone (no gradients, the
    /// temperatures unchanged), with the dropout masks `trainStep` would draw from `random`.
    func forwardLoss(_ batch: TrainingBatch, dropout: Bool, random: inout SeededGenerator) throws -> Double {
        try validate(batch.input)
        let stepDropout = dropout ? StepDropout(seed: random.next(), probabilities: self.dropout) : nil
        let logits = run(batch.input, labels: nil, dropout: stepDropout).logits
        var total = 0.0
        for (row, label) in zip(logits, batch.labels) {
            let maximum = Double(row.max()!)
            let logSum = maximum + Foundation.log(row.reduce(0.0) { $0 + Foundation.exp(Double($1) - maximum) })
            total += logSum - Double(row[label])
        }
        return total / Double(batch.labels.count)
    }

    public func logits(_ input: EncoderInput) throws -> [[Float]] {
        try validate(input)
        return run(input, labels: nil, dropout: nil).logits
    }

    public func exportFiles() throws -> [String: [UInt8]] { export.files() }

    // MARK: - Regularisation

    /// The `adapters` library's fusion regularisation, `0.01 · Σ ‖I − V‖²_F` over the trainable value matrices,
    /// with its gradient `0.02 · (V − I)` added to theirs.
    @discardableResult
    public func addRegularization() -> Double {
        var total = 0.0
        let h = encoder.hiddenSize
        for module in network.sublayers.values {
            guard case .fusion(_, let layer) = module, let value = layer.value, let parameter = value.parameter else {
                continue
            }
            let v = parameter.value.pointer, g = parameter.gradient.pointer
            for row in 0..<h {
                for column in 0..<h {
                    let difference = v[row * h + column] - (row == column ? 1 : 0)
                    total += Double(difference) * Double(difference)
                    g[row * h + column] += 0.02 * difference
                }
            }
        }
        return 0.01 * total
    }

    /// The regularisation term alone (no gradient).
    public var fusionRegularization: Float { Float(fusionRegularizationExact) }

    var fusionRegularizationExact: Double {
        var total = 0.0
        let h = encoder.hiddenSize
        for module in network.sublayers.values {
            guard case .fusion(_, let layer) = module, let value = layer.value, value.isTrainable else { continue }
            for row in 0..<h {
                for column in 0..<h {
                    let difference = Double(value.pointer[row * h + column]) - (row == column ? 1 : 0)
                    total += difference * difference
                }
            }
        }
        return 0.01 * total
    }

    // MARK: - Running a batch

    private func validate(_ input: EncoderInput) throws {
        let config = encoder.config
        guard input.batch > 0, input.sequenceLength > 0 else { throw QuiverError(.invalidInput, "an empty batch") }
        guard input.sequenceLength <= config.usablePositions else {
            throw QuiverError(.invalidInput, "sequence length \(input.sequenceLength) exceeds the model's \(config.usablePositions) positions")
        }
        for item in 0..<input.batch {
            let rows = input.layout.rows(of: item)
            // The head reads each item's first row.
            guard !rows.isEmpty else { throw QuiverError(.invalidInput, "item \(item) has no token") }
            for (position, row) in rows.enumerated() {
                let id = Int(input.ids[row]), type = Int(input.typeIds[row])
                guard id >= 0, id < config.vocabSize, type >= 0, type < config.typeVocabSize else {
                    throw QuiverError(
                        .invalidInput, "item \(item) position \(position): token id \(id) or type \(type) out of range")
                }
            }
        }
    }

    /// The slices of a batch: as many as threads (whole items each), fewer for a small batch.
    private func slices(batch: Int) -> [Range<Int>] {
        let count = max(1, min(batch, threads))
        return (0..<count).map { Parallel.chunkRange($0, of: count, count: batch) }
    }

    /// Forward (and, with labels, backward) over the batch: the summed loss divided by the batch, and the logits.
    private func run(_ input: EncoderInput, labels: [Int]?, dropout: StepDropout?) -> (loss: Double, logits: [[Float]]) {
        let slices = slices(batch: input.batch)
        while arenas.count < slices.count { arenas.append(TrainingArena()) }
        while sinks.count < slices.count {
            sinks.append(sinks.isEmpty ? GradientSink() : GradientSink(shadowing: parameters))
        }
        let classes = self.labels.count
        let layout = input.layout
        let masks = AttentionMasks(attentionMask: input.attentionMask, layout: input.layout)
        let logits = FloatBuffer(count: input.batch * classes)
        let lossesHigh = UnsafeMutablePointer<Double>.allocate(capacity: slices.count)
        defer { lossesHigh.deallocate() }
        let captured: FloatBuffer? = capturedStatesGradient == nil ? nil : FloatBuffer(count: layout.rows * encoder.hiddenSize)
        let queue = SliceQueue(count: slices.count)
        let workers = min(threads, slices.count)
        let (arenas, sinks, network, temperatures) = (self.arenas, self.sinks, self.network, self.temperatures)
        nonisolated(unsafe) let lossesOut = lossesHigh
        let hidden = encoder.hiddenSize
        Parallel.forEachChunk(of: workers, threads: workers) { _ in
            while let index = queue.take() {
                let items = slices[index]
                let arena = arenas[index], sink = sinks[index]
                arena.reset()
                if labels != nil { sink.zero() }
                let context = SliceContext(
                    rows: layout.starts[items.upperBound] - layout.starts[items.lowerBound], hidden: hidden,
                    firstRow: layout.starts[items.lowerBound], arena: arena, sink: sink,
                    dropout: dropout)
                let pass = TrainingPass(
                    network: network, context: context, items: items, layout: layout, masks: masks,
                    temperatures: temperatures)
                let result = pass.run(input: input, labels: labels.map { $0[items] }, batch: input.batch)
                (logits.pointer + items.lowerBound * classes).update(from: result.logits, count: items.count * classes)
                lossesOut[index] = result.loss
                if let captured, let gradient = result.statesGradient {
                    (captured.pointer + context.firstRow * hidden).update(from: gradient, count: context.rows * hidden)
                }
            }
        }
        var loss = 0.0
        if labels != nil {
            for index in 1..<max(slices.count, 1) { sinks[index].addInto(parameters) }
            for index in 0..<slices.count { loss += lossesHigh[index] }
            loss /= Double(input.batch)
        }
        if let captured { capturedStatesGradient = captured }
        let values = logits.array
        return (loss, (0..<input.batch).map { Array(values[($0 * classes)..<(($0 + 1) * classes)]) })
    }
}

extension TrainingPass {
    /// The slice through every layer and the head; with labels, the loss and backward.
    func run(input: EncoderInput, labels: ArraySlice<Int>?, batch: Int) -> (
        logits: UnsafePointer<Float>, loss: Double, statesGradient: UnsafePointer<Float>?
    ) {
        let layerCount = config.layerCount
        let firstTaped = labels == nil ? layerCount : network.firstTapedLayer
        var x = UnsafePointer(embed(ids: input.ids, typeIds: input.typeIds))
        var tapes: [LayerTape] = []
        for layer in 0..<layerCount {
            let y = arena.take(rows * hidden)
            if layer < firstTaped {
                let mark = arena.mark
                _ = forwardLayer(layer, x: x, output: y)
                arena.release(to: mark)
            } else {
                tapes.append(forwardLayer(layer, x: x, output: y))
            }
            x = UnsafePointer(y)
        }
        let (logits, headTape) = headForward(x)
        guard let labels else { return (logits, 0, nil) }
        let classes = network.head.labels.count
        let logitsGradient = arena.take(items.count * classes)
        let loss = CrossEntropy.forwardBackward(
            logits: logits, labels: labels, classes: classes, batch: batch, gradient: logitsGradient)
        var gradient = headBackward(headTape, logitsGradient: logitsGradient, needsStatesGradient: true)
        let statesGradient = gradient.map { UnsafePointer($0) }
        for layer in stride(from: layerCount - 1, through: firstTaped, by: -1) {
            guard let outputGradient = gradient else { break }
            gradient = backwardLayer(layer, tapes[layer - firstTaped], outputGradient: outputGradient)
        }
        return (logits, loss, statesGradient)
    }
}
