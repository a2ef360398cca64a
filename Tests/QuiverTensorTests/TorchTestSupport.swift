import Foundation
import Testing
@testable import QuiverTensor

/// The PyTorch fixtures written by `scripts/fixtures/make_torch_fixtures.py`, read from the source tree.
enum TorchFixtures {
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    /// `Tests/QuiverTensorTests/Fixtures/torch`: dtypes, views, legacy, protocol 5, zip64, hostile files.
    static let folder = tests.appendingPathComponent("QuiverTensorTests/Fixtures/torch")
    /// `Tests/QuiverStoreTests/Fixtures/torch`: files written by `transformers`, `adapters` and PEFT.
    static let libraries = tests.appendingPathComponent("QuiverStoreTests/Fixtures/torch")
    /// The tiny BERT those files were saved from, as `model.safetensors`.
    static let base = tests.appendingPathComponent("QuiverModelTests/Fixtures/adapters/base")

    static func path(_ name: String, in folder: URL = folder) -> String { folder.appendingPathComponent(name).path }

    static func bytes(_ name: String, in folder: URL = folder) throws -> [UInt8] {
        Array(try Data(contentsOf: folder.appendingPathComponent(name)))
    }
}

// MARK: - Pickles built by hand

/// Builds a pickle opcode by opcode, for what `torch.save` would never write.
struct PickleBuilder {
    var bytes: [UInt8]

    init(protocol version: UInt8 = 2) { bytes = [PickleOpcode.proto.rawValue, version] }

    mutating func op(_ opcode: PickleOpcode) { bytes.append(opcode.rawValue) }

    mutating func raw(_ more: [UInt8]) { bytes += more }

    /// BINUNICODE.
    mutating func string(_ text: String) {
        op(.binUnicode)
        bytes += withUnsafeBytes(of: UInt32(text.utf8.count).littleEndian, Array.init) + Array(text.utf8)
    }

    /// BININT1, BININT or an 8-byte LONG1, as the pickler chooses.
    mutating func int(_ value: Int) {
        if (0...255).contains(value) {
            bytes += [PickleOpcode.binInt1.rawValue, UInt8(value)]
        } else if let small = Int32(exactly: value) {
            op(.binInt)
            bytes += withUnsafeBytes(of: small.littleEndian, Array.init)
        } else {
            bytes += [PickleOpcode.long1.rawValue, 8] + withUnsafeBytes(of: Int64(value).littleEndian, Array.init)
        }
    }

    /// GLOBAL (protocol 2's text form).
    mutating func global(_ module: String, _ name: String) {
        op(.global)
        bytes += Array("\(module)\n\(name)\n".utf8)
    }

    mutating func tuple(_ items: (inout PickleBuilder) -> Void) {
        op(.mark)
        items(&self)
        op(.tuple)
    }

    /// `collections.OrderedDict()`.
    mutating func orderedDict() {
        global("collections", "OrderedDict")
        op(.emptyTuple)
        op(.reduce)
    }

    /// BINPERSID of `('storage', torch.<type>, key, 'cpu', count)`.
    mutating func storage(_ key: String, type: String = "FloatStorage", module: String = "torch", count: Int) {
        tuple {
            $0.string("storage")
            $0.global(module, type)
            $0.string(key)
            $0.string("cpu")
            $0.int(count)
        }
        op(.binPersID)
    }

    /// `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`.
    mutating func tensor(_ key: String, type: String = "FloatStorage", count: Int, offset: Int = 0, shape: [Int], strides: [Int]) {
        global("torch._utils", "_rebuild_tensor_v2")
        tuple {
            $0.storage(key, type: type, count: count)
            $0.int(offset)
            $0.tuple { builder in shape.forEach { builder.int($0) } }
            $0.tuple { builder in strides.forEach { builder.int($0) } }
            $0.op(.newFalse)
            $0.orderedDict()
        }
        op(.reduce)
    }

    /// `{name: value, ...}` then STOP: a whole state-dict pickle.
    static func stateDict(_ entries: [(String, (inout PickleBuilder) -> Void)], protocol version: UInt8 = 2) -> [UInt8] {
        var builder = PickleBuilder(protocol: version)
        builder.op(.emptyDict)
        for (name, value) in entries {
            builder.string(name)
            value(&builder)
            builder.op(.setItem)
        }
        builder.op(.stop)
        return builder.bytes
    }
}

// MARK: - Zip archives built by hand

/// A zip archive of stored entries, laid out like torch's, with every field open to a test's tampering.
struct ZipBuilder {
    struct Entry {
        var name: String
        var data: [UInt8]
        var method: UInt16 = 0
        var flags: UInt16 = 0x0800
        var crc: UInt32? = nil
    }

    var entries: [Entry]

    /// `archive/data.pkl`, `archive/byteorder` and `archive/data/<key>` for each storage.
    static func checkpoint(pickle: [UInt8], storages: [String: [UInt8]], byteorder: String = "little") -> ZipBuilder {
        var entries = [Entry(name: "archive/data.pkl", data: pickle), Entry(name: "archive/byteorder", data: Array(byteorder.utf8))]
        for key in storages.keys.sorted() { entries.append(Entry(name: "archive/data/\(key)", data: storages[key]!)) }
        entries.append(Entry(name: "archive/version", data: Array("3\n".utf8)))
        return ZipBuilder(entries: entries)
    }

    var bytes: [UInt8] {
        var out: [UInt8] = [], central: [UInt8] = []
        func u16(_ value: UInt16, _ into: inout [UInt8]) { into += withUnsafeBytes(of: value.littleEndian, Array.init) }
        func u32(_ value: UInt32, _ into: inout [UInt8]) { into += withUnsafeBytes(of: value.littleEndian, Array.init) }
        for entry in entries {
            let offset = UInt32(out.count), name = Array(entry.name.utf8)
            let crc = entry.crc ?? entry.data.withUnsafeBytes { CRC32.checksum($0) }
            u32(0x0403_4B50, &out); u16(20, &out); u16(entry.flags, &out); u16(entry.method, &out); u32(0, &out)
            u32(crc, &out); u32(UInt32(entry.data.count), &out); u32(UInt32(entry.data.count), &out)
            u16(UInt16(name.count), &out); u16(0, &out)
            out += name + entry.data
            u32(0x0201_4B50, &central); u16(20, &central); u16(20, &central); u16(entry.flags, &central); u16(entry.method, &central)
            u32(0, &central); u32(crc, &central); u32(UInt32(entry.data.count), &central); u32(UInt32(entry.data.count), &central)
            u16(UInt16(name.count), &central); u16(0, &central); u16(0, &central); u16(0, &central); u16(0, &central)
            u32(0, &central); u32(offset, &central)
            central += name
        }
        let start = UInt32(out.count)
        out += central
        u32(0x0605_4B50, &out); u16(0, &out); u16(0, &out); u16(UInt16(entries.count), &out); u16(UInt16(entries.count), &out)
        u32(UInt32(central.count), &out); u32(start, &out); u16(0, &out)
        return out
    }
}

/// Six floats 0…5: the storage most hand-built checkpoints use.
let sixFloats: [UInt8] = [Float](arrayLiteral: 0, 1, 2, 3, 4, 5).withUnsafeBytes(Array.init)

/// The `TorchCheckpointError` `body` throws (nil when it throws none; any other error is an issue).
func torchError(_ body: () throws -> Void) -> TorchCheckpointError? {
    do {
        try body()
        return nil
    } catch let error as TorchCheckpointError {
        return error
    } catch {
        Issue.record("not a TorchCheckpointError: \(error)")
        return nil
    }
}
