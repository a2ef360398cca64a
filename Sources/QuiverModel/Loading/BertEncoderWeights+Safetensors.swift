import QuiverTensor

extension BertEncoderWeights {
    /// Every encoder parameter of a checkpoint, converted to F32 (from F32, F16 or BF16), matched to the model by
    /// the one table of Hugging Face names, `BertWeightMap` (with or without the family's prefix). The position table
    /// keeps the rows real tokens use (RoBERTa's start after the padding index); DistilBERT, which has no token
    /// types, gets a table of zeros.
    ///
    /// - Throws: `QuiverError` naming the tensor for a missing, unexpected or misshaped tensor or an unsupported
    ///   dtype.
    public init(safetensors file: SafetensorsFile, config: BertConfig) throws {
        let map = try BertWeightMap(header: file.header, config: config, source: file.source)
        let epsilon = Float(config.layerNormEps)

        func tensor(_ parameter: BertParameter) throws -> FloatBuffer {
            guard let name = map.names[parameter] else {
                throw QuiverError(.invalidInput, "\(file.source): missing tensor '\(config.family.name(of: parameter) ?? "\(parameter)")'")
            }
            return try FloatBuffer(tensor: file.info(name), of: file)
        }
        func positions() throws -> FloatBuffer {
            let table = try tensor(.positionEmbeddings)
            guard config.positionOffset > 0 else { return table }
            let h = config.hiddenSize
            return FloatBuffer(Array(UnsafeBufferPointer(start: table.readPointer + config.positionOffset * h, count: config.usablePositions * h)))
        }
        func linear(_ weight: BertParameter, _ bias: BertParameter) throws -> LinearWeights {
            let shape = weight.shape(config)
            return LinearWeights(
                weight: try tensor(weight), bias: try tensor(bias), inFeatures: shape[1], outFeatures: shape[0])
        }
        func norm(_ gamma: BertParameter, _ beta: BertParameter) throws -> LayerNormWeights {
            LayerNormWeights(gamma: try tensor(gamma), beta: try tensor(beta), epsilon: epsilon)
        }

        let embeddings = EmbeddingWeights(
            words: try tensor(.wordEmbeddings), positions: try positions(),
            tokenTypes: config.family.hasTokenTypes
                ? try tensor(.tokenTypeEmbeddings) : FloatBuffer(Array(repeating: 0, count: config.typeVocabSize * config.hiddenSize)),
            norm: try norm(.embeddingNormWeight, .embeddingNormBias))
        let layers = try (0..<config.layerCount).map { index in
            func parameter(_ name: BertParameter.LayerParameter) -> BertParameter { .layer(index, name) }
            let queryKeyValue = LinearWeights(
                weight: FloatBuffer(
                    concatenating: try [.queryWeight, .keyWeight, .valueWeight].map { try tensor(parameter($0)) }),
                bias: FloatBuffer(
                    concatenating: try [.queryBias, .keyBias, .valueBias].map { try tensor(parameter($0)) }),
                inFeatures: config.hiddenSize, outFeatures: 3 * config.hiddenSize)
            return EncoderLayerWeights(
                queryKeyValue: queryKeyValue,
                attentionOutput: try linear(parameter(.attentionOutputWeight), parameter(.attentionOutputBias)),
                attentionNorm: try norm(parameter(.attentionNormWeight), parameter(.attentionNormBias)),
                intermediate: try linear(parameter(.intermediateWeight), parameter(.intermediateBias)),
                output: try linear(parameter(.outputWeight), parameter(.outputBias)),
                outputNorm: try norm(parameter(.outputNormWeight), parameter(.outputNormBias)))
        }
        let pooler =
            map.names[.poolerWeight] != nil && map.names[.poolerBias] != nil
            ? try linear(.poolerWeight, .poolerBias) : nil
        self.init(embeddings: embeddings, layers: layers, pooler: pooler)
    }
}

extension FloatBuffer {
    /// One tensor of a safetensors file as F32, read little-endian from F32, F16 or BF16.
    convenience init(tensor info: TensorInfo, of file: SafetensorsFile) throws {
        self.init(count: info.elementCount)
        let output = pointer
        let count = info.elementCount
        try file.withBytes(of: info) { bytes in
            switch info.dtype {
            case .f32:
                for index in 0..<count {
                    let bits = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
                    output[index] = Float(bitPattern: bits)
                }
            case .f16:
                for index in 0..<count {
                    let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))
                    output[index] = FloatConversion.float(fromHalf: bits)
                }
            case .bf16:
                for index in 0..<count {
                    let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))
                    output[index] = FloatConversion.float(fromBFloat16: bits)
                }
            default:
                throw QuiverError(
                    .unsupported, "\(file.source): tensor '\(info.name)' has dtype \(info.dtype.rawValue)")
            }
        }
    }

    /// The buffers one after the other.
    convenience init(concatenating parts: [FloatBuffer]) {
        self.init(count: parts.reduce(0) { $0 + $1.count })
        var offset = 0
        for part in parts {
            (pointer + offset).update(from: part.pointer, count: part.count)
            offset += part.count
        }
    }
}
