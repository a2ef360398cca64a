import QuiverTensor

/// The `adapters` library's bottleneck computation at one site, on a block of rows, split the way
/// the library splits it (`pre_forward`, `forward`, `post_forward`) so compositions can reuse the parts.
///
/// Names follow the library: `h` is the sublayer's projected output, `input` the sublayer's input
/// (its residual), `LN` the base layer's LayerNorm.
struct BottleneckMath {
    let rows: Int
    let hidden: Int
    let threading: Gemm.Threading

    var count: Int { rows * hidden }

    // MARK: - pre_forward

    /// From `h` to the adapter input `x` and its `residual`, per the adapter's config.
    /// x, residual are (rows, hidden); `h` is left untouched.
    func preForward(
        _ config: BottleneckConfig, h: UnsafePointer<Float>, input: UnsafePointer<Float>, norm: LayerNormWeights,
        x: UnsafeMutablePointer<Float>, residual: UnsafeMutablePointer<Float>
    ) {
        if config.residual == .beforeLayerNorm { residual.update(from: h, count: count) }
        if config.originalLayerNormBefore {
            Elementwise.add(h, input, into: x, count: count)
            if config.residual == .postAdd { residual.update(from: x, count: count) }
            norm.apply(x, into: x, rows: rows)
        } else {
            x.update(from: h, count: count)
        }
        if config.residual == .afterLayerNorm { residual.update(from: x, count: count) }
    }

    // MARK: - forward

    /// `up = adapter_up(act(adapter_down(LN_before?(x)))) · scaling`. up is (rows, hidden);
    /// work is (rows, max(hidden, bottleneck)) of scratch.
    func upProjection(
        _ module: BottleneckModule, _ config: BottleneckConfig, x: UnsafePointer<Float>,
        up: UnsafeMutablePointer<Float>, work: UnsafeMutablePointer<Float>
    ) {
        var downInput = x
        if let normBefore = module.normBefore {
            normBefore.apply(x, into: up, rows: rows)  // up is free until the last step
            downInput = UnsafePointer(up)
        }
        let b = module.bottleneckSize
        Linear.forward(downInput, weight: module.down.weight.readPointer, bias: module.down.bias.readPointer, into: work,
                       rows: rows, inFeatures: hidden, outFeatures: b, threading: threading)
        config.nonLinearity.apply(work, into: work, count: rows * b)
        Linear.forward(work, weight: module.up.weight.readPointer, bias: module.up.bias.readPointer, into: up,
                       rows: rows, inFeatures: b, outFeatures: hidden, threading: threading)
        switch config.scaling {
        case .fixed(let factor):
            if factor != 1 { Elementwise.scale(up, by: factor, count: count) }
        case .learned:
            Elementwise.scale(up, by: module.learnedScaling!.pointer[0], count: count)
        case .channel:
            let channel = module.learnedScaling!.readPointer
            for row in 0..<rows {
                let line = up + row * hidden
                for column in 0..<hidden { line[column] *= channel[column] }
            }
        }
    }

    /// The rest of the library's `forward`: residual and `ln_after`, in place on `up`.
    func finish(_ module: BottleneckModule, _ config: BottleneckConfig, up: UnsafeMutablePointer<Float>, residual: UnsafePointer<Float>) {
        if config.adapterResidualBeforeLayerNorm { Elementwise.accumulate(residual, into: up, count: count) }
        if let normAfter = module.normAfter { normAfter.apply(up, into: up, rows: rows) }
        if !config.adapterResidualBeforeLayerNorm { Elementwise.accumulate(residual, into: up, count: count) }
    }

    // MARK: - post_forward

    /// `output = LN(hidden + input)` when `original_ln_after`, else `hidden` (input not re-added).
    /// `hidden` may be overwritten.
    func postForward(
        _ config: BottleneckConfig, hidden states: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
        norm: LayerNormWeights, output: UnsafeMutablePointer<Float>
    ) {
        if config.originalLayerNormAfter {
            Elementwise.accumulate(input, into: states, count: count)
            norm.apply(states, into: output, rows: rows)
        } else {
            output.update(from: states, count: count)
        }
    }
}

/// Hands out consecutive pieces of a scratch buffer.
struct ScratchArena {
    private var next: UnsafeMutablePointer<Float>
    private let end: UnsafeMutablePointer<Float>

    init(_ buffer: UnsafeMutableBufferPointer<Float>) {
        next = buffer.baseAddress!
        end = buffer.baseAddress! + buffer.count
    }

    mutating func take(_ count: Int) -> UnsafeMutablePointer<Float> {
        precondition(next + count <= end, "ScratchArena: out of scratch memory")
        defer { next += count }
        return next
    }
}
