import Foundation
import Testing
@testable import QuiverTensor

/// `.bin` files written by torch and by the libraries that write them in practice, each converted to safetensors and
/// compared with the safetensors file the same tensors were saved to: same names, dtypes, shapes and bytes.
@Suite struct TorchConversionTests {
    struct Twin: CustomTestStringConvertible, Sendable {
        var checkpoint: String
        var safetensors: String
        var folder: URL = TorchFixtures.folder
        var twinFolder: URL = TorchFixtures.folder
        /// What the library writes as `__metadata__` (the `adapters` library writes none).
        var metadata: [String: String]? = ["format": "pt"]
        var format: TorchCheckpoint.Format = .zip

        var testDescription: String { checkpoint }
    }

    static let twins: [Twin] = {
        let libraries = TorchFixtures.libraries
        var twins = [
            Twin(checkpoint: "dtypes.bin", safetensors: "dtypes.safetensors"),
            Twin(checkpoint: "dtypes_legacy.bin", safetensors: "dtypes.safetensors", format: .legacy),
            Twin(checkpoint: "dtypes_v3.bin", safetensors: "dtypes_v3.safetensors"),
            Twin(checkpoint: "views.bin", safetensors: "views.safetensors"),
            Twin(checkpoint: "views_legacy.bin", safetensors: "views.safetensors", format: .legacy),
            Twin(checkpoint: "views_legacy_protocol4.bin", safetensors: "views.safetensors", format: .legacy),
            Twin(checkpoint: "views_protocol5.bin", safetensors: "views.safetensors"),
            Twin(checkpoint: "views_zip64.bin", safetensors: "views.safetensors"),
            // transformers' save_pretrained(safe_serialization=False), whole and sharded.
            Twin(checkpoint: "bert-bin/pytorch_model.bin", safetensors: "model.safetensors", folder: libraries, twinFolder: TorchFixtures.base),
            // adapters' save_adapter (its default is torch's format) and PEFT's save_pretrained.
            Twin(checkpoint: "adapters-bin/pytorch_adapter.bin", safetensors: "adapters-safetensors/adapter.safetensors",
                 folder: libraries, twinFolder: libraries, metadata: nil),
            Twin(checkpoint: "adapters-bin/pytorch_model_head.bin", safetensors: "adapters-safetensors/model_head.safetensors",
                 folder: libraries, twinFolder: libraries, metadata: nil),
            Twin(checkpoint: "peft-bin/adapter_model.bin", safetensors: "peft-safetensors/adapter_model.safetensors",
                 folder: libraries, twinFolder: libraries),
        ]
        for shard in 1...3 {
            twins.append(Twin(
                checkpoint: "bert-bin-sharded/pytorch_model-0000\(shard)-of-00003.bin",
                safetensors: "bert-safetensors-sharded/model-0000\(shard)-of-00003.safetensors", folder: libraries, twinFolder: libraries))
        }
        return twins
    }()

    @Test(arguments: twins)
    func convertsBitForBitToItsSafetensorsTwin(_ twin: Twin) throws {
        let expected = try TorchFixtures.bytes(twin.safetensors, in: twin.twinFolder)
        let mapped = try TorchCheckpoint(path: TorchFixtures.path(twin.checkpoint, in: twin.folder))
        #expect(mapped.format == twin.format)
        let converted = mapped.safetensorsBytes(metadata: twin.metadata)
        #expect(converted.count == expected.count)
        #expect(converted == expected, "first difference at byte \(String(describing: zip(converted, expected).enumerated().first { $1.0 != $1.1 }?.offset))")

        let inMemory = try TorchCheckpoint(bytes: TorchFixtures.bytes(twin.checkpoint, in: twin.folder), source: twin.checkpoint)
        #expect(inMemory.safetensorsBytes(metadata: twin.metadata) == expected)
        let file = try inMemory.safetensors(metadata: twin.metadata)
        #expect(file.isCanonical)
        #expect(file.header.dataLength == inMemory.byteCount)
        for tensor in inMemory.tensors {
            #expect(try inMemory.tensorData(tensor.name) == file.tensorData(tensor.name), "\(tensor.name)")
        }
    }

    @Test func tensorsAreListedInTheFilesOrderWithDTypeAndShape() throws {
        let checkpoint = try TorchCheckpoint(path: TorchFixtures.path("dtypes.bin"))
        let expected: [(String, DType, [Int])] = [
            ("f32", .f32, [2, 4]), ("f32_nan_payloads", .f32, [2]), ("f16", .f16, [6]), ("bf16", .bf16, [2, 2]),
            ("f64", .f64, [3]), ("i64", .i64, [4]), ("i32", .i32, [2, 2]), ("i16", .i16, [3]), ("i8", .i8, [4]),
            ("u8", .u8, [3]), ("bool", .bool, [5]), ("scalar", .f32, []), ("empty", .f32, [0, 3]),
        ]
        #expect(checkpoint.tensors.map(\.name) == expected.map(\.0))
        #expect(checkpoint.tensors.map(\.dtype) == expected.map(\.1))
        #expect(checkpoint.tensors.map(\.shape) == expected.map(\.2))
        // Values where a conversion would go wrong first: NaN payloads, -0, integer extremes.
        let nan = try #require(checkpoint.tensorData("f32_nan_payloads"))
        #expect(nan.bytes == [0x01, 0x00, 0xC0, 0x7F, 0x45, 0x23, 0xC1, 0xFF])
        let i64 = try #require(checkpoint.tensorData("i64")).bytes.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) }
        #expect(i64 == [.min, .max, 0, -1])
        #expect(checkpoint.tensorData("no such tensor") == nil)
    }

    @Test func dtypesWithoutATypedStorageComeThroughRebuildTensorV3() throws {
        let checkpoint = try TorchCheckpoint(path: TorchFixtures.path("dtypes_v3.bin"))
        #expect(checkpoint.tensors.map(\.dtype) == [.f8e4m3, .f8e5m2, .f8e8m0, .u16, .u32, .u64, .u16])
        // A view of an untyped storage: the offset counts uint16 elements, not bytes.
        let tail = try #require(checkpoint.tensorData("u16_tail_transposed"))
        #expect(tail.shape == [4, 3])
        let values = tail.bytes.withUnsafeBytes { Array($0.bindMemory(to: UInt16.self)) }
        #expect(values == [6, 11, 16, 7, 12, 17, 8, 13, 18, 9, 14, 19])
    }

    @Test func tiedWeightsAreCopiedOncePerName() throws {
        let checkpoint = try TorchCheckpoint(path: TorchFixtures.path("views.bin"))
        let encoder = try #require(checkpoint.tensorData("encoder.weight"))
        #expect(checkpoint.tensorData("decoder.weight") == encoder)
        let sizes = checkpoint.tensors.map { $0.dtype.byteCount(elements: $0.shape.reduce(1, *))! }
        #expect(checkpoint.byteCount == sizes.reduce(0, +))

        // The adapters library registers a LayerNorm under two names when ln_before is set: a .bin with
        // shared storages that the library cannot save as safetensors at all.
        let adapter = try TorchCheckpoint(path: TorchFixtures.path("adapters-ln-before-bin/pytorch_adapter.bin", in: TorchFixtures.libraries))
        let file = try adapter.safetensors(metadata: nil)
        #expect(file.tensorNames.count == adapter.tensors.count)
        for layer in 0...1 {
            for part in ["weight", "bias"] {
                let prefix = "bert.encoder.layer.\(layer).output.adapters.shared."
                #expect(try file.tensorData(prefix + "adapter_norm_before.\(part)") == file.tensorData(prefix + "adapter_down.0.\(part)"))
            }
        }
    }

    @Test func viewsAreCopiedInRowMajorOrder() throws {
        let checkpoint = try TorchCheckpoint(path: TorchFixtures.path("views.bin"))
        let base = try #require(checkpoint.tensorData("base")).bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        func floats(_ name: String) throws -> [Float] {
            try #require(checkpoint.tensorData(name)).bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        #expect(try floats("rows") == Array(base[6..<18]))  // storage offset 6
        #expect(try floats("transposed") == (0..<6).flatMap { column in (0..<4).map { base[$0 * 6 + column] } })
        #expect(try floats("every_other_column") == (0..<4).flatMap { row in [0, 2, 4].map { base[row * 6 + $0] } })
        let broadcast = try #require(checkpoint.tensorData("broadcast"))
        #expect(broadcast.shape == [4, 3])
        #expect(broadcast.bytes.withUnsafeBytes { Array($0.bindMemory(to: Int64.self)) } == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2])
    }

    /// The copy by runs against the element-by-element reference, on random views: size-1 dimensions, strides of
    /// 0, dimensions that merge, transposes, offsets.
    @Test func stridedCopyAgreesWithTheReferenceOnRandomViews() {
        var random = SeededGenerator(seed: 7)
        let storageElements = 4096
        let storage = (0..<storageElements * 2).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        for trial in 0..<500 {
            let rank = Int.random(in: 0...4, using: &random)
            let dtype: DType = [.u8, .f16, .f32, .i64][trial % 4]
            let shape = (0..<rank).map { _ in Int.random(in: 1...5, using: &random) }
            var strides = [Int](repeating: 0, count: rank)
            var contiguous = 1
            for dimension in (0..<rank).reversed() {
                switch Int.random(in: 0...3, using: &random) {
                case 0: strides[dimension] = 0
                case 1: strides[dimension] = Int.random(in: 1...7, using: &random)
                default: strides[dimension] = contiguous
                }
                contiguous *= shape[dimension]
            }
            if rank >= 2, Bool.random(using: &random) { strides.swapAt(0, rank - 1) }
            let view = TorchTensorView(storage: "0", dtype: dtype, offset: Int.random(in: 0...9, using: &random), shape: shape, strides: strides)
            let elementsInStorage = storage.count / view.elementSize
            guard let bytes = try? view.checkedByteCount(name: "t", storageElements: elementsInStorage) else { continue }
            var expected = [UInt8](repeating: 0, count: bytes), actual = expected
            storage.withUnsafeBytes { source in
                expected.withUnsafeMutableBytes { StridedCopy.reference(view, from: source, into: $0) }
                actual.withUnsafeMutableBytes { StridedCopy.copy(view, from: source, into: $0) }
            }
            #expect(actual == expected, "shape \(shape), strides \(strides), offset \(view.offset), \(dtype)")
        }
    }

    @Test func rebuildTensorOfTorch040AndEmptyStateDicts() throws {
        var v1 = PickleBuilder()
        v1.op(.emptyDict)
        v1.string("w")
        v1.global("torch._utils", "_rebuild_tensor")
        v1.tuple {
            $0.storage("0", count: 6)
            $0.int(1)
            $0.tuple { $0.int(2); $0.int(2) }
            $0.tuple { $0.int(1); $0.int(2) }
        }
        v1.op(.reduce)
        v1.op(.setItem)
        v1.op(.stop)
        let checkpoint = try TorchCheckpoint(bytes: ZipBuilder.checkpoint(pickle: v1.bytes, storages: ["0": sixFloats]).bytes)
        let w = try #require(checkpoint.tensorData("w"))
        #expect(w.shape == [2, 2])
        #expect(try w.floats() == [1, 3, 2, 4])

        let empty = try TorchCheckpoint(bytes: ZipBuilder.checkpoint(pickle: PickleBuilder.stateDict([]), storages: [:]).bytes)
        #expect(empty.tensors.isEmpty)
        #expect(try empty.safetensors().header.metadata == ["format": "pt"])
        #expect(empty.safetensorsBytes(metadata: nil) == rawSafetensors("{}      "))
    }

    @Test func conversionLimitGrowsWithTheFileAndSaturates() {
        #expect(TorchCheckpoint.conversionLimit(fileSize: 0) == 16 << 20)
        #expect(TorchCheckpoint.conversionLimit(fileSize: 1 << 30) == (4 << 30) + (16 << 20))
        #expect(TorchCheckpoint.conversionLimit(fileSize: .max) == .max)
        #expect(TorchCheckpoint.conversionLimit(fileSize: .max / 4) == .max)
    }
}
