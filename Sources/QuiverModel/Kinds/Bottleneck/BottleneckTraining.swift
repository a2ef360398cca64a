import QuiverTensor

// Forward and backward of the `adapters` library's bottleneck layer at one site, split as the library splits it
// (pre_forward, forward, post_forward; docs/fixtures-adapters.md), on the rows of a slice. `h` is the sublayer's
// projected output (after its dropout), `input` the sublayer's input (its residual), `LN` the base LayerNorm.
//
// Forward functions keep in their tape what backward reads; backward functions accumulate (`+=`) into the gradient
// buffers they are given, like the kernels.

/// What pre_forward keeps: the adapter input `x` and the residual, both pointing into kept memory.
struct PreForwardTape {
    let h: UnsafePointer<Float>
    /// h + input, normalised by the base LayerNorm (original_ln_before).
    let addedNorm: NormTape?
    let x: UnsafePointer<Float>
    let residual: UnsafePointer<Float>
}

/// What the up-projection keeps.
struct UpProjectionTape {
    /// x is (rows, hidden): the adapter input.
    let x: UnsafePointer<Float>
    let normBefore: NormTape?
    /// normalized is (rows, hidden): the down projection's input (x, or LN_before(x)).
    let normalized: UnsafePointer<Float>
    /// down is (rows, bottleneck), before the activation; activated after it.
    let down: UnsafePointer<Float>
    let activated: UnsafePointer<Float>
    /// unscaled is (rows, hidden): adapter_up's output before a learned scaling (nil for a fixed factor).
    let unscaled: UnsafePointer<Float>?
}

/// What the rest of a single adapter's forward and post_forward keep.
struct FinishTape {
    let normAfter: NormTape?
    /// The base LayerNorm of post_forward (original_ln_after).
    let postNorm: NormTape?
}

extension SliceContext {
    // MARK: - pre_forward

    func preForward(
        _ config: BottleneckConfig, h: UnsafePointer<Float>, input: UnsafePointer<Float>, norm: TrainNorm
    ) -> PreForwardTape {
        var residual: UnsafePointer<Float>? = config.residual == .beforeLayerNorm ? h : nil
        var x = h
        var addedNorm: NormTape?
        if config.originalLayerNormBefore {
            let added = arena.take(count)
            Elementwise.add(h, input, into: added, count: count)
            if config.residual == .postAdd { residual = UnsafePointer(added) }
            let normalized = arena.take(count)
            addedNorm = normForward(norm, input: added, output: normalized)
            x = UnsafePointer(normalized)
        }
        if config.residual == .afterLayerNorm { residual = x }
        precondition(residual != nil, "residual_before_ln \"post_add\" needs original_ln_before")
        return PreForwardTape(h: h, addedNorm: addedNorm, x: x, residual: residual!)
    }

    /// From the gradients of `x` and of the residual to those of `h` and `input` (accumulated).
    func preForwardBackward(
        _ config: BottleneckConfig, _ tape: PreForwardTape, norm: TrainNorm, xGradient: UnsafeMutablePointer<Float>,
        residualGradient: UnsafePointer<Float>, hGradient: UnsafeMutablePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>
    ) {
        switch config.residual {
        case .beforeLayerNorm: Elementwise.accumulate(residualGradient, into: hGradient, count: count)
        case .afterLayerNorm: Elementwise.accumulate(residualGradient, into: xGradient, count: count)
        case .postAdd: break
        }
        guard let addedNorm = tape.addedNorm else {
            Elementwise.accumulate(xGradient, into: hGradient, count: count)
            return
        }
        let addedGradient = arena.zeros(count)
        if config.residual == .postAdd { addedGradient.update(from: residualGradient, count: count) }
        normBackward(norm, addedNorm, outputGradient: xGradient, inputGradient: addedGradient)
        Elementwise.accumulate(addedGradient, into: hGradient, count: count)
        Elementwise.accumulate(addedGradient, into: inputGradient, count: count)
    }

    // MARK: - Up projection

    /// `up = adapter_up(act(adapter_down(LN_before?(x)))) · scaling` into a new buffer (rows, hidden).
    func upProjection(
        _ module: TrainBottleneckModule, _ config: BottleneckConfig, x: UnsafePointer<Float>
    ) -> (up: UnsafeMutablePointer<Float>, tape: UpProjectionTape) {
        var normalized = x
        var normBefore: NormTape?
        if let norm = module.normBefore {
            let output = arena.take(count)
            normBefore = normForward(norm, input: x, output: output)
            normalized = UnsafePointer(output)
        }
        let b = module.bottleneckSize
        let down = arena.take(rows * b), activated = arena.take(rows * b)
        module.down.forward(normalized, into: down, rows: rows)
        config.nonLinearity.apply(down, into: activated, count: rows * b)
        let up = arena.take(count)
        module.up.forward(activated, into: up, rows: rows)
        var unscaled: UnsafePointer<Float>?
        switch config.scaling {
        case .fixed(let factor):
            if factor != 1 { Elementwise.scale(up, by: factor, count: count) }
        case .learned:
            unscaled = UnsafePointer(arena.copy(up, count: count))
            Elementwise.scale(up, by: module.scaling!.pointer[0], count: count)
        case .channel:
            unscaled = UnsafePointer(arena.copy(up, count: count))
            let channel = module.scaling!.pointer
            for row in 0..<rows {
                let line = up + row * hidden
                for column in 0..<hidden { line[column] *= channel[column] }
            }
        }
        let tape = UpProjectionTape(
            x: x, normBefore: normBefore, normalized: normalized, down: down, activated: activated, unscaled: unscaled)
        return (up, tape)
    }

    /// From the gradient of `up` to the module's weight gradients and, when `xGradient` is given, `x`'s.
    func upProjectionBackward(
        _ module: TrainBottleneckModule, _ config: BottleneckConfig, _ tape: UpProjectionTape,
        upGradient: UnsafePointer<Float>, xGradient: UnsafeMutablePointer<Float>?
    ) {
        let b = module.bottleneckSize
        let unscaledGradient = arena.take(count)
        switch config.scaling {
        case .fixed(let factor):
            for i in 0..<count { unscaledGradient[i] = upGradient[i] * factor }
        case .learned:
            let factor = module.scaling!.pointer[0]
            if let gradient = sink[module.scaling!] {
                var sum: Float = 0
                for i in 0..<count { sum += upGradient[i] * tape.unscaled![i] }
                gradient[0] += sum
            }
            for i in 0..<count { unscaledGradient[i] = upGradient[i] * factor }
        case .channel:
            let channel = module.scaling!.pointer
            let gradient = sink[module.scaling!]
            for row in 0..<rows {
                let offset = row * hidden
                for column in 0..<hidden {
                    gradient?[column] += upGradient[offset + column] * tape.unscaled![offset + column]
                    unscaledGradient[offset + column] = upGradient[offset + column] * channel[column]
                }
            }
        }
        let activatedGradient = arena.zeros(rows * b)
        module.up.backward(
            input: tape.activated, outputGradient: unscaledGradient, inputGradient: activatedGradient, rows: rows,
            sink: sink)
        let downGradient = arena.zeros(rows * b)
        config.nonLinearity.backward(
            input: tape.down, output: tape.activated, outputGradient: activatedGradient, inputGradient: downGradient,
            count: rows * b)
        guard let normBefore = module.normBefore else {
            module.down.backward(
                input: tape.normalized, outputGradient: downGradient, inputGradient: xGradient, rows: rows, sink: sink)
            return
        }
        let needsNormalized = xGradient != nil || normBefore.isTrainable
        let normalizedGradient = needsNormalized ? arena.zeros(count) : nil
        module.down.backward(
            input: tape.normalized, outputGradient: downGradient, inputGradient: normalizedGradient, rows: rows,
            sink: sink)
        if let normalizedGradient {
            normBackward(
                normBefore, tape.normBefore!, outputGradient: normalizedGradient,
                inputGradient: xGradient ?? arena.zeros(count))
        }
    }

    // MARK: - Residual, ln_after and post_forward

    /// The rest of the adapter's forward on `up` (overwritten), then post_forward into `output`.
    func finishAndPostForward(
        _ module: TrainBottleneckModule, _ config: BottleneckConfig, up: UnsafeMutablePointer<Float>,
        residual: UnsafePointer<Float>, input: UnsafePointer<Float>, norm: TrainNorm,
        dropout: DropoutMask?, output: UnsafeMutablePointer<Float>
    ) -> FinishTape {
        dropout?.apply(up, count: count, firstIndex: firstRow * hidden)
        if config.adapterResidualBeforeLayerNorm { Elementwise.accumulate(residual, into: up, count: count) }
        var out = up
        var normAfter: NormTape?
        if let norm = module.normAfter {
            out = arena.take(count)
            normAfter = normForward(norm, input: up, output: out)
        }
        if !config.adapterResidualBeforeLayerNorm { Elementwise.accumulate(residual, into: out, count: count) }
        let postNorm = postForward(config, states: out, input: input, norm: norm, output: output)
        return FinishTape(normAfter: normAfter, postNorm: postNorm)
    }

    /// post_forward: `output = LN(states + input)` when original_ln_after (states is overwritten), else `states`.
    func postForward(
        _ config: BottleneckConfig, states: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
        norm: TrainNorm, output: UnsafeMutablePointer<Float>
    ) -> NormTape? {
        guard config.originalLayerNormAfter else {
            output.update(from: states, count: count)
            return nil
        }
        Elementwise.accumulate(input, into: states, count: count)
        return normForward(norm, input: states, output: output)
    }

    /// The gradient of post_forward's `states` from the output's (`inputGradient` accumulated when given).
    func postForwardBackward(
        _ postNorm: NormTape?, norm: TrainNorm, outputGradient: UnsafePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>?
    ) -> UnsafePointer<Float> {
        guard let postNorm else { return outputGradient }
        let statesGradient = arena.zeros(count)
        normBackward(norm, postNorm, outputGradient: outputGradient, inputGradient: statesGradient)
        if let inputGradient { Elementwise.accumulate(statesGradient, into: inputGradient, count: count) }
        return UnsafePointer(statesGradient)
    }

    // MARK: - One adapter

    /// A single bottleneck adapter at one site: `output` from `h` and `input`.
    func bottleneckForward(
        _ adapter: TrainBottleneckAdapter, _ module: TrainBottleneckModule, site: AdapterSite,
        h: UnsafePointer<Float>, input: UnsafePointer<Float>, norm: TrainNorm, output: UnsafeMutablePointer<Float>
    ) -> BottleneckTape {
        let config = adapter.config
        let pre = preForward(config, h: h, input: input, norm: norm)
        let (up, upTape) = upProjection(module, config, x: pre.x)
        let finish = finishAndPostForward(
            module, config, up: up, residual: pre.residual, input: input, norm: norm,
            dropout: dropout.mask(.adapter(layer: site.layer, site.location), \.adapter), output: output)
        return BottleneckTape(pre: pre, up: upTape, finish: finish)
    }

    /// Backward of `bottleneckForward`: the module's weight gradients, and, when `needsInputGradient`, the
    /// gradients of `h` and `input` (accumulated).
    func bottleneckBackward(
        _ adapter: TrainBottleneckAdapter, _ module: TrainBottleneckModule, site: AdapterSite, _ tape: BottleneckTape,
        norm: TrainNorm, outputGradient: UnsafePointer<Float>, hGradient: UnsafeMutablePointer<Float>,
        inputGradient: UnsafeMutablePointer<Float>, needsInputGradient: Bool
    ) {
        let config = adapter.config
        let outGradient = postForwardBackward(
            tape.finish.postNorm, norm: norm, outputGradient: outputGradient,
            inputGradient: needsInputGradient ? inputGradient : nil)
        let residualGradient = needsInputGradient ? arena.zeros(count) : nil
        if !config.adapterResidualBeforeLayerNorm, let residualGradient {
            Elementwise.accumulate(outGradient, into: residualGradient, count: count)
        }
        var beforeNormAfterGradient = outGradient
        if let normAfter = module.normAfter {
            let gradient = arena.zeros(count)
            normBackward(normAfter, tape.finish.normAfter!, outputGradient: outGradient, inputGradient: gradient)
            beforeNormAfterGradient = UnsafePointer(gradient)
        }
        if config.adapterResidualBeforeLayerNorm, let residualGradient {
            Elementwise.accumulate(beforeNormAfterGradient, into: residualGradient, count: count)
        }
        let upGradient = arena.copy(beforeNormAfterGradient, count: count)
        dropout.mask(.adapter(layer: site.layer, site.location), \.adapter)?
            .apply(upGradient, count: count, firstIndex: firstRow * hidden)
        let xGradient = needsInputGradient ? arena.zeros(count) : nil
        upProjectionBackward(module, config, tape.up, upGradient: upGradient, xGradient: xGradient)
        if let xGradient, let residualGradient {
            preForwardBackward(
                config, tape.pre, norm: norm, xGradient: xGradient, residualGradient: residualGradient,
                hGradient: hGradient, inputGradient: inputGradient)
        }
    }
}

/// What a single adapter at one site keeps for backward.
struct BottleneckTape {
    let pre: PreForwardTape
    let up: UpProjectionTape
    let finish: FinishTape
}

// MARK: - Tensor names written

extension TensorNaming {
    func bottleneck(_ site: AdapterSite, adapter: String, _ component: String) -> String {
        "\(layer(site.layer)).\(location(site.location)).adapters.\(adapter).\(component)"
    }
}
