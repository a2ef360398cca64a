import Foundation
import Testing
@testable import QuiverTensor

/// Hostile and damaged checkpoints: each is refused with a one-line error naming the file and the fault, and nothing
/// is ever run, trapped on or allocated beyond the bounds.
@Suite struct TorchHostileFileTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var file: String
        var kind: TorchCheckpointError.Kind
        /// Text the message must hold.
        var says: String
        var testDescription: String { file }
    }

    static let cases: [Case] = [
        // Code execution, through GLOBAL (protocol 2), STACK_GLOBAL (protocol 4) and the legacy format.
        Case(file: "global_os_system.bin", kind: .refusedGlobal, says: "refuses global os.system: "),
        Case(file: "stack_global_eval.bin", kind: .refusedGlobal, says: "refuses global builtins.eval: "),
        Case(file: "legacy_os_system.bin", kind: .refusedGlobal, says: "refuses global posix.system: "),
        // Numbers.
        Case(file: "size_overflow.bin", kind: .invalidTensor, says: "tensor 'w': shape [4611686018427387904, 4] overflows"),
        Case(file: "stride_past_storage.bin", kind: .invalidTensor,
             says: "tensor 'w': shape [2, 3], strides [3, 2] and offset 0 reach element 7 of storage '0', which has 6"),
        Case(file: "offset_past_storage.bin", kind: .invalidTensor, says: "offset 5 reach element 6 of storage '0', which has 6"),
        Case(file: "negative_stride.bin", kind: .invalidTensor, says: "tensor 'w': negative offset, size or stride"),
        Case(file: "broadcast_bomb.bin", kind: .limitExceeded, says: "its tensors would take more than"),
        // Storages.
        Case(file: "missing_storage.bin", kind: .invalidStorage, says: "storage '1' is missing from the archive (no entry archive/data/1)"),
        Case(file: "storage_size_mismatch.bin", kind: .invalidStorage,
             says: "storage '0' holds 24 bytes but is declared as 7 FloatStorage (28 bytes)"),
        Case(file: "not_a_state_dict.bin", kind: .notAStateDict, says: "'epoch' is a int, not a tensor"),
        // The archive.
        Case(file: "compressed.bin", kind: .unsupported, says: "entry 'archive/data.pkl' is compressed (method 8)"),
        Case(file: "escaping_name.bin", kind: .malformedArchive, says: "entry name 'archive/../../etc/passwd' escapes the archive"),
        Case(file: "overlapping_entries.bin", kind: .malformedArchive, says: "overlap"),
        Case(file: "truncated.bin", kind: .malformedArchive, says: "no end-of-central-directory record (truncated file?)"),
    ]

    @Test(arguments: cases)
    func isRefusedWithAOneLineError(_ test: Case) throws {
        let bytes = try TorchFixtures.bytes("hostile/" + test.file)
        let error = try #require(torchError { _ = try TorchCheckpoint(bytes: bytes, source: test.file) })
        #expect(error.kind == test.kind)
        #expect(error.description.hasPrefix(test.file + ": "))
        #expect(error.description.contains(test.says), "\(error)")
        #expect(!error.description.contains("\n"))

        // From a path, the path names the file.
        let path = TorchFixtures.path("hostile/" + test.file)
        let fromPath = try #require(torchError { _ = try TorchCheckpoint(path: path) })
        #expect(fromPath.description == "\(path): \(error.message)")
    }

    @Test func theGlobalIsNamedFirstAndWhereItIs() throws {
        let bytes = try TorchFixtures.bytes("hostile/stack_global_eval.bin")
        let error = try #require(torchError { _ = try TorchCheckpoint(bytes: bytes, source: "pytorch_model.bin") })
        #expect(error.description.hasPrefix("pytorch_model.bin: refuses global builtins.eval: "))
        #expect(error.description.hasSuffix("nothing is run (data.pkl, byte 35)"))
    }

    @Test func missingFilesAndOtherFormats() throws {
        let missing = try #require(torchError { _ = try TorchCheckpoint(path: "/nonexistent/pytorch_model.bin") })
        #expect(missing.kind == .io)
        #expect(missing.description.hasPrefix("/nonexistent/pytorch_model.bin: cannot open"))
        // A plain pickle (protocol 2 and 4) is not torch's legacy format.
        for bytes in [[], Array("{\"a\": 1}".utf8), try TorchFixtures.bytes("dtypes.safetensors"), [0x80, 2, 0x4E, 0x2E], [0x80, 4, 0x4B, 7, 0x2E]] {
            #expect(torchError { _ = try TorchCheckpoint(bytes: bytes) }?.kind == .notACheckpoint)
        }
        var tar = [UInt8](repeating: 0, count: 1024)
        tar.replaceSubrange(257..<262, with: Array("ustar".utf8))
        #expect(torchError { _ = try TorchCheckpoint(bytes: tar) }?.description.contains("tar checkpoint format") == true)
    }
}

/// Every prefix and many one-byte changes of real checkpoints: an error or a checkpoint, never a trap.
@Suite struct TorchDamagedFileTests {
    @Test(arguments: ["views.bin", "views_legacy.bin", "views_legacy_protocol4.bin", "dtypes_v3.bin", "views_zip64.bin"])
    func everyTruncationIsAnError(_ name: String) throws {
        let bytes = try TorchFixtures.bytes(name)
        for length in 0..<bytes.count {
            let error = torchError { _ = try TorchCheckpoint(bytes: Array(bytes[..<length]), source: name) }
            #expect(error != nil, "\(name) cut to \(length) bytes was read")
        }
    }

    @Test(arguments: ["views_legacy.bin", "views_legacy_protocol4.bin", "dtypes_legacy.bin"])
    func changedBytesOfALegacyFileNeverTrap(_ name: String) throws {
        // The legacy format has no checksums: every change reaches the unpickler or the storages.
        let bytes = try TorchFixtures.bytes(name)
        var read = 0
        for position in bytes.indices {
            for value: UInt8 in [0x00, 0xFF, bytes[position] ^ 0x01, 0x80] {
                var changed = bytes
                changed[position] = value
                if let checkpoint = try? TorchCheckpoint(bytes: changed, source: name) {
                    read += 1
                    _ = checkpoint.safetensorsBytes()
                }
            }
        }
        #expect(read > 0)  // changes inside the storages' bytes are still valid files
    }

    @Test func aDamagedEntryFailsItsChecksum() throws {
        var bytes = try TorchFixtures.bytes("views.bin")
        let archive = try bytes.withUnsafeBytes { try ZipArchive($0) }
        let storage = try #require(archive.entries["data/0"])
        bytes[storage.data.lowerBound] ^= 0x40
        let error = try #require(torchError { _ = try TorchCheckpoint(bytes: bytes, source: "views.bin") })
        #expect(error.description == "views.bin: entry 'views/data/0' fails its CRC-32 check (damaged file)")
    }
}

/// Zip archives built field by field.
@Suite struct TorchZipArchiveTests {
    static let pickle = PickleBuilder.stateDict([("w", { $0.tensor("0", count: 6, shape: [6], strides: [1]) })])

    func error(_ zip: ZipBuilder) -> TorchCheckpointError? {
        torchError { _ = try TorchCheckpoint(bytes: zip.bytes, source: "t.bin") }
    }

    @Test func aMinimalArchiveIsRead() throws {
        let checkpoint = try TorchCheckpoint(bytes: ZipBuilder.checkpoint(pickle: Self.pickle, storages: ["0": sixFloats]).bytes)
        #expect(try checkpoint.tensorData("w")?.floats() == [0, 1, 2, 3, 4, 5])
    }

    @Test func namesMustStayInsideOneRootFolder() {
        for (name, says) in [
            ("/archive/data/1", "escapes the archive"), ("archive/data/../x", "escapes the archive"),
            ("archive/./x", "escapes the archive"), ("archive//x", "escapes the archive"), ("archive\\x", "escapes the archive"),
            ("other/data/1", "is outside the archive's root folder 'archive'"), ("toplevel", "is not inside a root folder"),
            ("archive/data.pkl", "appears twice"),
        ] {
            var zip = ZipBuilder.checkpoint(pickle: Self.pickle, storages: ["0": sixFloats])
            zip.entries.append(.init(name: name, data: [1]))
            let error = error(zip)
            #expect(error?.kind == .malformedArchive, "\(name)")
            #expect(error?.description.contains(says) == true, "\(name): \(String(describing: error))")
        }
    }

    @Test func encryptedCompressedAndDamagedEntriesAreRefused() {
        var zip = ZipBuilder.checkpoint(pickle: Self.pickle, storages: ["0": sixFloats])
        zip.entries[2].flags |= 1
        #expect(error(zip)?.description == "t.bin: entry 'archive/data/0' is encrypted")
        zip = ZipBuilder.checkpoint(pickle: Self.pickle, storages: ["0": sixFloats])
        zip.entries[2].method = 8
        #expect(error(zip)?.kind == .unsupported)
        zip = ZipBuilder.checkpoint(pickle: Self.pickle, storages: ["0": sixFloats])
        zip.entries[0].crc = 1
        #expect(error(zip)?.description == "t.bin: entry 'archive/data.pkl' fails its CRC-32 check (damaged file)")
    }

    @Test func byteOrderPickleAndStorageEntriesAreChecked() {
        let big = ZipBuilder.checkpoint(pickle: Self.pickle, storages: ["0": sixFloats], byteorder: "big")
        #expect(error(big)?.description == "t.bin: big-endian checkpoints are not supported")
        let odd = ZipBuilder.checkpoint(pickle: Self.pickle, storages: ["0": sixFloats], byteorder: "middle")
        #expect(error(odd)?.kind == .malformedArchive)
        var noPickle = ZipBuilder.checkpoint(pickle: Self.pickle, storages: ["0": sixFloats])
        noPickle.entries.removeFirst()
        #expect(error(noPickle)?.description == "t.bin: a zip archive without archive/data.pkl (not written by torch.save)")
        let trailing = ZipBuilder.checkpoint(pickle: Self.pickle + [0x4E], storages: ["0": sixFloats])
        #expect(error(trailing)?.description == "t.bin: data.pkl has 1 bytes after its STOP")
        #expect(error(ZipBuilder(entries: []))?.kind == .notACheckpoint)
    }

    @Test func endRecordsAreChecked() throws {
        var bytes = ZipBuilder.checkpoint(pickle: Self.pickle, storages: ["0": sixFloats]).bytes
        let end = bytes.count - 22
        // A central directory said to start past the end records.
        var far = bytes
        far.replaceSubrange((end + 16)..<(end + 20), with: withUnsafeBytes(of: UInt32(end + 1).littleEndian, Array.init))
        #expect(torchError { _ = try TorchCheckpoint(bytes: far) }?.description.contains("runs past the end records") == true)
        // More entries than the directory can hold.
        var many = bytes
        many.replaceSubrange((end + 8)..<(end + 12), with: [0xFF, 0xFE, 0xFF, 0xFE])
        #expect(torchError { _ = try TorchCheckpoint(bytes: many) }?.kind == .malformedArchive)
        // Several disks.
        bytes[end + 4] = 1
        #expect(torchError { _ = try TorchCheckpoint(bytes: bytes) }?.kind == .unsupported)
    }
}

/// Pickles built opcode by opcode, read through a whole checkpoint or the unpickler alone.
@Suite struct TorchPickleTests {
    func error(_ pickle: [UInt8], storages: [String: [UInt8]] = ["0": sixFloats]) -> TorchCheckpointError? {
        torchError { _ = try TorchCheckpoint(bytes: ZipBuilder.checkpoint(pickle: pickle, storages: storages).bytes, source: "t.bin") }
    }

    func unpickle(_ bytes: [UInt8], valueLimit: Int = RestrictedUnpickler.maximumValues) -> TorchCheckpointError? {
        torchError {
            try bytes.withUnsafeBytes { buffer in
                var unpickler = RestrictedUnpickler(buffer, label: "p", valueLimit: valueLimit)
                _ = try unpickler.load()
            }
        }
    }

    @Test func opcodesThatBuildObjectsOrReadOutsideDataAreRefusedByName() {
        for (opcode, says) in [
            (PickleOpcode.newObj, "opcode NEWOBJ is not read: it constructs an object"),
            (.inst, "opcode INST is not read: it constructs an object"), (.obj, "opcode OBJ is not read"),
            (.newObjEx, "opcode NEWOBJ_EX is not read"), (.ext2, "opcode EXT2 is not read: it names a global through the extension registry"),
            (.nextBuffer, "opcode NEXT_BUFFER is not read"), (.persID, "opcode PERSID is not read: protocol 0 text opcodes"),
            (.shortBinBytes, "opcode SHORT_BINBYTES is not read: a state dict holds no bytes or sets"),
        ] {
            var builder = PickleBuilder()
            builder.op(.emptyDict)
            builder.op(opcode)
            let error = unpickle(builder.bytes)
            #expect(error?.kind == .refusedOpcode)
            #expect(error?.message == "\(says) (p, byte 3)" || error?.message.hasPrefix(says) == true, "\(String(describing: error))")
        }
        #expect(unpickle([0x80, 2, 0xFF])?.message == "unknown opcode 0xff (p, byte 2)")
        #expect(unpickle([0x80, 6, 0x4E, 0x2E])?.kind == .unsupported)
    }

    @Test func globalsAreRefusedWhereTheyAreNamedBeforeAnythingRuns() {
        for (module, name) in [
            ("os", "system"), ("builtins", "eval"), ("builtins", "getattr"), ("torch", "load"), ("torch", "Tensor"),
            ("torch", "device"), ("torch", "UntypedStorage"), ("torch.storage", "TypedStorage"), ("torch._utils", "_rebuild_qtensor"),
            ("torch._tensor", "_rebuild_from_type_v2"), ("collections", "Counter"), ("torch", "float8_e4m3fnuz"),
        ] {
            var builder = PickleBuilder()
            builder.global(module, name)
            let error = unpickle(builder.bytes)
            #expect(error?.kind == .refusedGlobal)
            #expect(error?.message.hasPrefix("refuses global \(module).\(name): ") == true, "\(String(describing: error))")
        }
        // Text from the file is escaped: one line whatever the name holds.
        var builder = PickleBuilder(protocol: 4)
        builder.string("os\nx")
        builder.string("system\u{2028}")
        builder.op(.stackGlobal)
        #expect(unpickle(builder.bytes)?.message.hasPrefix("refuses global os\\u{a}x.system\\u{2028}: ") == true)
    }

    @Test func allowedGlobalsAreOnlyInterpretedAsTheyAreMeant() {
        // A storage class or dtype called, OrderedDict with arguments, BUILD of anything but an OrderedDict's attributes.
        var storage = PickleBuilder()
        storage.global("torch", "FloatStorage")
        storage.op(.emptyTuple)
        storage.op(.reduce)
        #expect(unpickle(storage.bytes)?.message.hasPrefix("FloatStorage is called") == true)
        var dtype = PickleBuilder()
        dtype.global("torch", "float16")
        dtype.op(.emptyTuple)
        dtype.op(.reduce)
        #expect(unpickle(dtype.bytes)?.message.hasPrefix("the dtype F16 is called") == true)
        var ordered = PickleBuilder()
        ordered.global("collections", "OrderedDict")
        ordered.tuple { $0.int(1) }
        ordered.op(.reduce)
        #expect(unpickle(ordered.bytes)?.message.hasPrefix("OrderedDict with arguments") == true)
        var build = PickleBuilder()
        build.op(.emptyList)
        build.op(.emptyDict)
        build.op(.build)
        #expect(unpickle(build.bytes)?.message.hasPrefix("BUILD of a dict on a list") == true)
        var buildState = PickleBuilder()
        buildState.orderedDict()
        buildState.int(1)
        buildState.op(.build)
        #expect(unpickle(buildState.bytes)?.message.hasPrefix("BUILD of a int on a dict") == true)
        var reduceString = PickleBuilder()
        reduceString.string("os.system")
        reduceString.op(.emptyTuple)
        reduceString.op(.reduce)
        #expect(unpickle(reduceString.bytes)?.kind == .malformedPickle)
    }

    @Test func rebuildArgumentsAreChecked() {
        let wrongArguments = PickleBuilder.stateDict([("w", {
            $0.global("torch._utils", "_rebuild_tensor_v2")
            $0.tuple { $0.storage("0", count: 6); $0.int(0) }
            $0.op(.reduce)
        })])
        #expect(error(wrongArguments)?.message.hasPrefix("expected _rebuild_tensor_v2(storage, offset") == true)
        let conjugate = PickleBuilder.stateDict([("w", {
            $0.global("torch._utils", "_rebuild_tensor_v2")
            $0.tuple {
                $0.storage("0", count: 6)
                $0.int(0)
                $0.tuple { $0.int(6) }
                $0.tuple { $0.int(1) }
                $0.op(.newFalse)
                $0.orderedDict()
                $0.op(.emptyDict)
                $0.string("conj")
                $0.op(.newTrue)
                $0.op(.setItem)
            }
            $0.op(.reduce)
        })])
        #expect(error(conjugate)?.kind == .unsupported)
        let legacyView = PickleBuilder.stateDict([("w", {
            $0.tuple {
                $0.string("storage"); $0.global("torch", "FloatStorage"); $0.string("0"); $0.string("cpu"); $0.int(6)
                $0.tuple { $0.string("1"); $0.int(0); $0.int(6) }
            }
            $0.op(.binPersID)
        })])
        #expect(error(legacyView)?.message.hasPrefix("storage views (legacy view metadata) are not read") == true)
        let badKey = PickleBuilder.stateDict([("w", { $0.tensor("../0", count: 6, shape: [6], strides: [1]) })])
        #expect(error(badKey)?.message.hasPrefix("storage key '../0' is not 1–64 letters, digits or _") == true)
        let twoTypes = PickleBuilder.stateDict([
            ("a", { $0.tensor("0", count: 6, shape: [6], strides: [1]) }),
            ("b", { $0.tensor("0", type: "IntStorage", count: 6, shape: [6], strides: [1]) }),
        ])
        #expect(error(twoTypes)?.message.hasPrefix("storage '0' is declared as 6 FloatStorage and as 6 IntStorage") == true)
        let hugeCount = PickleBuilder.stateDict([("w", { $0.tensor("0", type: "DoubleStorage", count: .max / 4, shape: [1], strides: [1]) })])
        #expect(error(hugeCount)?.message == "storage '0': 2305843009213693951 elements overflow")
        let tooManyDimensions = PickleBuilder.stateDict([("w", {
            $0.tensor("0", count: 6, shape: Array(repeating: 1, count: 65), strides: Array(repeating: 1, count: 65))
        })])
        #expect(error(tooManyDimensions)?.message == "tensor 'w': 65 dimensions (at most 64)")
        let mismatched = PickleBuilder.stateDict([("w", { $0.tensor("0", count: 6, shape: [2, 3], strides: [1]) })])
        #expect(error(mismatched)?.message == "tensor 'w': 2 sizes but 1 strides")
        let strideOverflow = PickleBuilder.stateDict([("w", { $0.tensor("0", count: 6, shape: [3], strides: [.max / 2]) })])
        #expect(error(strideOverflow)?.kind == .invalidTensor)
        let emptyPastEnd = PickleBuilder.stateDict([("w", { $0.tensor("0", count: 6, offset: 7, shape: [0], strides: [1]) })])
        #expect(error(emptyPastEnd)?.message == "tensor 'w': offset 7 is past the end of storage '0' (6 elements)")
    }

    @Test func theLimitNamesTheTensorThatCrossesIt() {
        let pickle = PickleBuilder.stateDict([
            ("small", { $0.tensor("0", count: 6, shape: [6], strides: [1]) }),
            ("huge", { $0.tensor("1", type: "ByteStorage", count: 1, shape: [1 << 40], strides: [0]) }),
        ])
        let error = error(pickle, storages: ["0": sixFloats, "1": [7]])
        #expect(error?.kind == .limitExceeded)
        #expect(error?.message.hasSuffix("at 'huge': views repeat elements or storages too often") == true)
    }

    @Test func theStateDictMustMapDistinctNamesToTensors() {
        let tensor: (inout PickleBuilder) -> Void = { $0.tensor("0", count: 6, shape: [6], strides: [1]) }
        #expect(error(PickleBuilder.stateDict([("w", tensor), ("w", tensor)]))?.message == "data.pkl: tensor 'w' appears twice (or differs only in Unicode normalisation)")
        #expect(error(PickleBuilder.stateDict([("e\u{301}", tensor), ("\u{e9}", tensor)]))?.kind == .notAStateDict)
        #expect(error(PickleBuilder.stateDict([("__metadata__", tensor)]))?.kind == .notAStateDict)
        var list = PickleBuilder()
        list.op(.emptyList)
        list.op(.stop)
        #expect(error(list.bytes)?.message == "data.pkl holds a list, not a state dict (names mapped to tensors)")
        var intKey = PickleBuilder()
        intKey.op(.emptyDict)
        intKey.int(3)
        tensor(&intKey)
        intKey.op(.setItem)
        intKey.op(.stop)
        #expect(error(intKey.bytes)?.message == "data.pkl: a state dict key is a int, not a string")
    }

    @Test func valuesMemoMarksAndNestingAreBounded() {
        // Each NONE makes a value.
        #expect(unpickle([0x80, 2] + Array(repeating: 0x4E, count: 11) + [0x2E], valueLimit: 10)?.message == "makes more than 10 values (p, byte 12)")
        #expect(unpickle([0x80, 2] + Array(repeating: 0x28, count: 11), valueLimit: 10)?.kind == .limitExceeded)
        // LONG_BINPUT at ever new indices.
        var memo = PickleBuilder()
        memo.op(.none)
        for index in 0..<11 { memo.raw([PickleOpcode.longBinPut.rawValue, UInt8(index), 0, 0, 0]) }
        #expect(unpickle(memo.bytes, valueLimit: 10)?.message.hasPrefix("memoizes more than 10 values") == true)
        // The same index again and again is fine.
        var same = PickleBuilder()
        same.op(.none)
        for _ in 0..<100 { same.raw([PickleOpcode.binPut.rawValue, 0]) }
        same.op(.stop)
        #expect(unpickle(same.bytes, valueLimit: 10) == nil)
        var deep = PickleBuilder()
        deep.op(.emptyTuple)
        for _ in 0..<40 { deep.op(.tuple1) }
        #expect(unpickle(deep.bytes)?.message.hasPrefix("tuples nest deeper than 32") == true)
        // A list holding itself is only an index, not a cycle.
        var cycle = PickleBuilder()
        cycle.op(.emptyList)
        cycle.raw([PickleOpcode.binPut.rawValue, 0, PickleOpcode.binGet.rawValue, 0, PickleOpcode.append.rawValue, PickleOpcode.stop.rawValue])
        #expect(unpickle(cycle.bytes) == nil)
    }

    @Test func lengthsAndTheStackAreCheckedBeforeUse() {
        for (bytes, says) in [
            ([0x80, 2, 0x58, 0xFF, 0xFF, 0xFF, 0x7F], "a length of 2147483647 runs past the end"),
            ([0x80, 2, 0x8D] + Array(repeating: 0xFF, count: 8), "a length of 18446744073709551615 runs past the end"),
            ([0x80, 2, 0x8B, 0xFF, 0xFF, 0xFF, 0xFF], "a length of -1 runs past the end"),
            ([0x80, 2, 0x52], "stack underflow"), ([0x80, 2, 0x31], "no MARK to pop to"), ([0x80, 2, 0x2E], "stack underflow"),
            ([0x80, 2, 0x4E, 0x4E, 0x2E], "STOP leaves values or marks on the stack"), ([0x80, 2, 0x4E], "ends without STOP (truncated?)"),
            ([0x80, 2, 0x68, 9], "BINGET 9 of an empty memo slot"), ([0x80, 2, 0x4E, 0x4E, 0x61], "appending to a None, not a list"),
            ([0x80, 2, 0x28, 0x4E, 0x64], "an odd number of items for a dict"), ([0x80, 2, 0x63, 0x61], "GLOBAL without a newline"),
            ([0x80, 2, 0x8C, 2, 0xC3, 0x28], "a string is not UTF-8"), ([0x80, 2, 0x4E, 0x86], "TUPLE2 needs 2 values"),
            ([0x80, 2, 0x4E, 0x28, 0x86], "TUPLE2 needs 2 values"),
        ] as [([UInt8], String)] {
            let error = unpickle(bytes)
            #expect(error?.kind == .malformedPickle, "\(says)")
            #expect(error?.message.hasPrefix(says) == true, "\(says): \(String(describing: error))")
        }
    }

    @Test func everyPrefixOfARealPickleIsAnError() throws {
        let bytes = try TorchFixtures.bytes("views.bin")
        let pickle = try bytes.withUnsafeBytes { file in try ZipArchive(file).bytes(of: "data.pkl", in: file).map(Array.init) ?? [] }
        for length in 0..<pickle.count {
            #expect(unpickle(Array(pickle[..<length])) != nil)
        }
        #expect(unpickle(pickle) == nil)
    }
}
