import QuiverTensor

// LoRA at one projection: `y += scaling · (dropout(x) · Aᵀ) · Bᵀ`, forward and backward.

extension SliceContext {
    /// Adds the LoRA delta to `output` (rows, outFeatures; rows `outputStride` apart); returns the kept
    /// `reduced = dropout(x) · Aᵀ` (rows, rank).
    func loraForward(
        _ module: TrainLoRAModule, site: LoRASite, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
        outputStride: Int
    ) -> UnsafePointer<Float> {
        let dropped = droppedLoRAInput(module, site: site, input: input)
        let reduced = arena.take(rows * module.rank)
        Linear.forward(
            dropped, weight: module.a.pointer, bias: nil, into: reduced, rows: rows, inFeatures: module.inFeatures,
            outFeatures: module.rank)
        // output (rows, out) += scaling · reduced (rows, r) · Bᵀ (r, out)
        Gemm.sgemm(
            .normal, .transposed, m: rows, n: module.outFeatures, k: module.rank, alpha: module.scaling, a: reduced,
            lda: module.rank, b: module.b.pointer, ldb: module.rank, beta: 1, c: output, ldc: outputStride)
        return UnsafePointer(reduced)
    }

    /// Accumulates the gradients of A and B and, when given, of the input.
    func loraBackward(
        _ module: TrainLoRAModule, site: LoRASite, input: UnsafePointer<Float>, reduced: UnsafePointer<Float>,
        outputGradient: UnsafePointer<Float>, outputStride: Int, inputGradient: UnsafeMutablePointer<Float>?
    ) {
        let (r, inFeatures, outFeatures) = (module.rank, module.inFeatures, module.outFeatures)
        if let gradient = sink[module.b] {
            // ∂B (out, r) += scaling · ∂yᵀ (out, rows) · reduced (rows, r)
            Gemm.sgemm(
                .transposed, .normal, m: outFeatures, n: r, k: rows, alpha: module.scaling, a: outputGradient,
                lda: outputStride, b: reduced, ldb: r, beta: 1, c: gradient, ldc: r)
        }
        // ∂reduced (rows, r) = scaling · ∂y (rows, out) · B (out, r)
        let reducedGradient = arena.take(rows * r)
        Gemm.sgemm(
            .normal, .normal, m: rows, n: r, k: outFeatures, alpha: module.scaling, a: outputGradient,
            lda: outputStride, b: module.b.pointer, ldb: r, c: reducedGradient, ldc: r)
        if let gradient = sink[module.a] {
            let dropped = droppedLoRAInput(module, site: site, input: input)
            // ∂A (r, in) += ∂reducedᵀ (r, rows) · dropped (rows, in)
            Gemm.sgemm(
                .transposed, .normal, m: r, n: inFeatures, k: rows, a: reducedGradient, lda: r, b: dropped,
                ldb: inFeatures, beta: 1, c: gradient, ldc: inFeatures)
        }
        guard let inputGradient else { return }
        if let mask = dropout.mask(.lora(layer: site.layer, site.projection), \.lora) {
            let droppedGradient = arena.take(rows * inFeatures)
            Gemm.sgemm(
                .normal, .normal, m: rows, n: inFeatures, k: r, a: reducedGradient, lda: r, b: module.a.pointer,
                ldb: inFeatures, c: droppedGradient, ldc: inFeatures)
            mask.apply(droppedGradient, count: rows * inFeatures, firstIndex: firstRow * inFeatures)
            Elementwise.accumulate(droppedGradient, into: inputGradient, count: rows * inFeatures)
        } else {
            // ∂x (rows, in) += ∂reduced (rows, r) · A (r, in)
            Gemm.sgemm(
                .normal, .normal, m: rows, n: inFeatures, k: r, a: reducedGradient, lda: r, b: module.a.pointer,
                ldb: inFeatures, beta: 1, c: inputGradient, ldc: inFeatures)
        }
    }

    /// dropout(x): x itself when there is no LoRA dropout, else a masked copy (recomputed identically in backward).
    private func droppedLoRAInput(_ module: TrainLoRAModule, site: LoRASite, input: UnsafePointer<Float>)
        -> UnsafePointer<Float>
    {
        guard let mask = dropout.mask(.lora(layer: site.layer, site.projection), \.lora) else { return input }
        let copy = arena.copy(input, count: rows * module.inFeatures)
        mask.apply(copy, count: rows * module.inFeatures, firstIndex: firstRow * module.inFeatures)
        return UnsafePointer(copy)
    }
}

// MARK: - Tensor names written

extension TensorNaming {
    func lora(_ site: LoRASite, adapter: String, matrix: String) -> String {
        peft
            ? "base_model.model.\(layer(site.layer)).\(module(site.projection)).lora_\(matrix).weight"
            : "\(layer(site.layer)).\(module(site.projection)).loras.\(adapter).lora_\(matrix)"
    }

    /// The Linear of a projection, within its layer.
    func module(_ projection: ProjectionSite) -> String {
        family.projectionModule(AdapterTensor.LoRATarget(projection))
    }
}
