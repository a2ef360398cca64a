/// A PyTorch state dict saved by `torch.save`, read without executing any of its pickle code, and its tensors
/// as a canonical safetensors file.
///
/// Two layouts are read: the zip archive of torch ≥ 1.6 (`<root>/data.pkl`, `<root>/data/<key>` storages,
/// `<root>/byteorder`) and the legacy stream of `_use_new_zipfile_serialization=False` (magic number,
/// protocol version, system info, the state dict, its storage keys, then each storage's bytes). Storages are
/// read in place from the memory-mapped file; tensors may be views of them (offsets, strides, shared storage)
/// and are copied out contiguously. Every number is checked before it is used (see `TorchTensorView`).
///
/// ```swift
/// let checkpoint = try TorchCheckpoint(path: "pytorch_model.bin")
/// let weights = try checkpoint.safetensors()   // same names, dtypes, shapes and bytes
/// ```
public final class TorchCheckpoint: @unchecked Sendable {
    /// The zip archive of torch ≥ 1.6, or the stream of `_use_new_zipfile_serialization=False`.
    public enum Format: Sendable { case zip, legacy }

    /// One tensor of the state dict.
    public struct Tensor: Sendable, Equatable {
        public var name: String
        public var dtype: DType
        public var shape: [Int]
    }

    /// The path or label used in error messages.
    public let source: String
    /// The layout the file was read in.
    public let format: Format
    /// The state dict's tensors, in the file's order.
    public let tensors: [Tensor]
    /// Bytes of all tensors copied contiguously (views of one storage count once per name).
    public let byteCount: Int
    /// Names that are the very same tensor as an earlier name (same storage, offset, dtype, shape and strides — tied
    /// weights), each mapped to that first name. Both keep their copy in `safetensors()`; counts take them once.
    public let aliases: [String: String]

    /// Each tensor's view of its storage, in `tensors`' order (internal for the tests and the fuzz target).
    let views: [TorchTensorView]
    /// Each storage's bytes in the file, by key.
    private let storageRanges: [String: Range<Int>]
    private let storage: Storage

    private enum Storage {
        case mapped(MappedFile)
        case memory([UInt8])
    }

    /// At most this many bytes of tensors are made from a file of `fileSize` bytes. Tied weights copy their
    /// storage once per name, so a real file can need more than its size (T5 names its embedding three or four
    /// times, but it is a third of the file); a hostile one (a stride of 0 over a huge shape, thousands of names
    /// for one storage) cannot make more than this.
    public static func conversionLimit(fileSize: Int) -> Int {
        let (scaled, overflow) = max(0, fileSize).multipliedReportingOverflow(by: 4)
        return overflow || scaled > Int.max - (16 << 20) ? Int.max : scaled + (16 << 20)
    }

    /// Reads the checkpoint at `path` (memory-mapped; storages are read in place).
    public convenience init(path: String) throws(TorchCheckpointError) {
        let file: MappedFile
        do {
            file = try MappedFile(path: path)
        } catch {
            throw TorchCheckpointError(.io, (error as? SafetensorsError)?.message ?? "\(error)", source: path)
        }
        try self.init(storage: .mapped(file), source: path)
    }

    /// Reads a checkpoint held in memory; `source` names it in error messages.
    public convenience init(bytes: [UInt8], source: String = "<memory>") throws(TorchCheckpointError) {
        try self.init(storage: .memory(bytes), source: source)
    }

    private init(storage: Storage, source: String) throws(TorchCheckpointError) {
        self.storage = storage
        self.source = source
        let parsed: Parsed
        do {
            parsed = try Self.withBytes(of: storage) { (file) throws(TorchCheckpointError) in try Self.parse(file) }
        } catch {
            throw error.from(source)
        }
        format = parsed.format
        views = parsed.tensors.map(\.view)
        tensors = parsed.tensors.map { Tensor(name: $0.name, dtype: $0.view.dtype, shape: $0.view.shape) }
        storageRanges = parsed.storageRanges
        byteCount = parsed.byteCount
        var first: [TorchTensorView: String] = [:]
        var aliases: [String: String] = [:]
        for (tensor, view) in zip(tensors, views) {
            if let earlier = first[view] { aliases[tensor.name] = earlier } else { first[view] = tensor.name }
        }
        self.aliases = aliases
    }

    // MARK: - Tensors

    /// One tensor copied contiguously, with its dtype and shape.
    public func tensorData(_ name: String) -> TensorData? {
        guard let index = tensors.firstIndex(where: { $0.name == name }) else { return nil }
        let view = views[index]
        let count = view.shape.reduce(1, *) * view.elementSize
        let bytes = withStorage(view.storage) { storage in
            [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                StridedCopy.copy(view, from: storage, into: UnsafeMutableRawBufferPointer(buffer))
                initialized = count
            }
        }
        return TensorData(dtype: view.dtype, shape: view.shape, bytes: bytes)
    }

    /// The tensors as the bytes of one canonical safetensors file: the same names, dtypes, shapes and bytes,
    /// each view copied contiguously and each name of a shared storage given its own copy. `metadata` defaults
    /// to `{"format": "pt"}`, what `transformers` and PEFT write for PyTorch weights, so a converted checkpoint
    /// has the bytes of the safetensors file those libraries save (the `adapters` library writes none: `nil`).
    /// The size is `byteCount` plus the header, within `conversionLimit`.
    public func safetensorsBytes(metadata: [String: String]? = ["format": "pt"]) -> [UInt8] {
        let layout = SafetensorsLayout(tensors: tensors.map { ($0.name, $0.dtype, $0.shape) }, metadata: metadata)
        let viewsByName = Dictionary(uniqueKeysWithValues: zip(tensors.map(\.name), views))
        let dataStart = layout.headerBytes.count
        return [UInt8](unsafeUninitializedCapacity: layout.totalLength) { buffer, initialized in
            let output = UnsafeMutableRawBufferPointer(buffer)
            layout.headerBytes.withUnsafeBytes { output.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: dataStart) }
            for entry in layout.entries {
                let view = viewsByName[entry.name]!
                let range = (dataStart + entry.dataRange.lowerBound)..<(dataStart + entry.dataRange.upperBound)
                withStorage(view.storage) { StridedCopy.copy(view, from: $0, into: UnsafeMutableRawBufferPointer(rebasing: output[range])) }
            }
            initialized = layout.totalLength
        }
    }

    /// The tensors as a canonical safetensors file in memory (`safetensorsBytes`), read back and validated.
    ///
    /// ```swift
    /// let file = try TorchCheckpoint(path: "pytorch_adapter.bin").safetensors(metadata: nil)
    /// try file.floats("bert.encoder.layer.0.output.adapters.a.adapter_down.0.weight")
    /// ```
    public func safetensors(metadata: [String: String]? = ["format": "pt"]) throws(TorchCheckpointError) -> SafetensorsFile {
        do {
            return try SafetensorsFile(bytes: safetensorsBytes(metadata: metadata), source: source)
        } catch {
            // Only a header beyond safetensors' own bound (millions of tensors) can fail here.
            let reason = (error as? SafetensorsError)?.message ?? "\(error)"
            throw TorchCheckpointError(.limitExceeded, "cannot be written as safetensors: \(reason)", source: source)
        }
    }

    /// The bytes of the storage `key`; valid only inside `body`.
    func withStorage<R>(_ key: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        Self.withBytes(of: storage) { file in body(UnsafeRawBufferPointer(rebasing: file[storageRanges[key]!])) }
    }

    private static func withBytes<R, E: Error>(of storage: Storage, _ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        switch storage {
        case .mapped(let file):
            return try file.withBytes { bytes in Result { () throws(E) in try body(bytes) } }.get()
        case .memory(let bytes):
            return try bytes.withUnsafeBytes { bytes in Result { () throws(E) in try body(bytes) } }.get()
        }
    }
}

// MARK: - Parsing

extension TorchCheckpoint {
    private struct Parsed {
        var format: Format
        var tensors: [(name: String, view: TorchTensorView)]
        var storageRanges: [String: Range<Int>]
        var byteCount = 0
    }

    /// The legacy format's first pickle: `MAGIC_NUMBER` = 0x1950a86a20f9469cfc6c, little-endian.
    private static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    private static let legacyProtocolVersion: Int64 = 1001

    private static func parse(_ file: UnsafeRawBufferPointer) throws(TorchCheckpointError) -> Parsed {
        var parsed: Parsed
        if ZipArchive.looksLikeZip(file) {
            parsed = try parseZip(file)
        } else if file.first == PickleOpcode.proto.rawValue {
            parsed = try parseLegacy(file)
        } else if file.count > 262, file[257..<262].elementsEqual("ustar".utf8) {
            throw TorchCheckpointError(.unsupported, "torch's tar checkpoint format (before 0.4) is not supported")
        } else {
            throw TorchCheckpointError(.notACheckpoint, "not a PyTorch checkpoint (neither torch.save's zip archive nor its legacy format)")
        }
        // Every tensor fits its storage, and all of them together fit the bound.
        let limit = conversionLimit(fileSize: file.count)
        for (name, view) in parsed.tensors {
            let storageBytes = parsed.storageRanges[view.storage]!.count
            let bytes = try view.checkedByteCount(name: name, storageElements: storageBytes / view.elementSize)
            guard bytes <= limit - parsed.byteCount else {
                throw TorchCheckpointError(
                    .limitExceeded,
                    "its tensors would take more than \(limit) bytes (4 × the file's size + 16 MiB) at '\(printable(name))': "
                        + "views repeat elements or storages too often")
            }
            parsed.byteCount += bytes
        }
        return parsed
    }

    private static func parseZip(_ file: UnsafeRawBufferPointer) throws(TorchCheckpointError) -> Parsed {
        let archive = try ZipArchive(file)
        let root = printable(archive.root)
        if let order = try archive.bytes(of: "byteorder", in: file), !order.elementsEqual("little".utf8) {
            guard order.elementsEqual("big".utf8) else { throw TorchCheckpointError(.malformedArchive, "\(root)/byteorder is not 'little' or 'big'") }
            throw TorchCheckpointError(.unsupported, "big-endian checkpoints are not supported")
        }
        guard let pickle = try archive.bytes(of: "data.pkl", in: file) else {
            throw TorchCheckpointError(.notACheckpoint, "a zip archive without \(root)/data.pkl (not written by torch.save)")
        }
        var unpickler = RestrictedUnpickler(pickle, label: "data.pkl")
        // Two statements: in `unpickler.stateDict(try unpickler.load())` the receiver would be copied before
        // `load` runs, and read the dicts of an empty unpickler.
        let value = try unpickler.load()
        let tensors = try unpickler.stateDict(value)
        guard unpickler.position == pickle.count else {
            throw TorchCheckpointError(.malformedPickle, "data.pkl has \(pickle.count - unpickler.position) bytes after its STOP")
        }
        var ranges: [String: Range<Int>] = [:]
        for (key, declaration) in unpickler.storages {
            guard let entry = archive.entries["data/\(key)"] else {
                throw TorchCheckpointError(.invalidStorage, "storage '\(key)' is missing from the archive (no entry \(root)/data/\(key))")
            }
            try checkStorageSize(key, declaration, bytes: entry.data.count)
            _ = try archive.bytes(of: "data/\(key)", in: file)  // CRC-32
            ranges[key] = entry.data
        }
        return Parsed(format: .zip, tensors: tensors, storageRanges: ranges)
    }

    private static func parseLegacy(_ file: UnsafeRawBufferPointer) throws(TorchCheckpointError) -> Parsed {
        var position = 0
        func next(_ label: String) throws(TorchCheckpointError) -> (PickleValue, RestrictedUnpickler) {
            var unpickler = RestrictedUnpickler(file, at: position, label: label)
            let value = try unpickler.load()
            position = unpickler.position
            return (value, unpickler)
        }
        func malformed(_ message: String) -> TorchCheckpointError { TorchCheckpointError(.malformedPickle, message) }

        // Any pickle protocol (torch.save's `pickle_protocol`); the first pickle must be the magic number.
        guard case .largeInteger(let magic) = try next("the magic number").0, magic == legacyMagic else {
            throw TorchCheckpointError(.notACheckpoint, "a pickle without the magic number of torch's legacy format")
        }
        guard case .integer(legacyProtocolVersion) = try next("the protocol version").0 else {
            throw TorchCheckpointError(.unsupported, "legacy format protocol version other than \(legacyProtocolVersion)")
        }
        let (systemInfo, infoReader) = try next("the system information")
        guard case .bool(let littleEndian) = infoReader.item("little_endian", of: systemInfo) else {
            throw malformed("the system information does not say little_endian")
        }
        guard littleEndian else { throw TorchCheckpointError(.unsupported, "big-endian checkpoints are not supported") }
        let (state, unpickler) = try next("the state dict pickle")
        let tensors = try unpickler.stateDict(state)
        let (keyList, keyReader) = try next("the storage key list")
        guard let keys = keyReader.strings(keyList) else { throw malformed("the storage key list is not a list of strings") }

        // Then each storage in the list's order: its element count (8 bytes), then its bytes.
        var ranges: [String: Range<Int>] = [:]
        var cursor = ByteCursor(file, at: position)
        for key in keys {
            guard let declaration = unpickler.storages[key] else {
                throw TorchCheckpointError(.invalidStorage, "storage '\(printable(key))' is listed but no tensor uses it")
            }
            guard ranges[key] == nil else { throw TorchCheckpointError(.invalidStorage, "storage '\(key)' is listed twice") }
            guard let count = cursor.uint64(), count == UInt64(declaration.elementCount) else {
                throw TorchCheckpointError(.invalidStorage, "storage '\(key)' does not start with its element count \(declaration.elementCount)")
            }
            let bytes = try checkStorageSize(key, declaration, bytes: nil)
            let start = cursor.position
            guard cursor.skip(bytes) else {
                throw TorchCheckpointError(.invalidStorage, "storage '\(key)' (\(bytes) bytes) runs past the end of the file (truncated?)")
            }
            ranges[key] = start..<cursor.position
        }
        guard cursor.isAtEnd else { throw malformed("\(cursor.remaining) bytes after the last storage") }
        if let missing = unpickler.storages.keys.sorted().first(where: { ranges[$0] == nil }) {
            throw TorchCheckpointError(.invalidStorage, "storage '\(missing)' is missing from the file")
        }
        return Parsed(format: .legacy, tensors: tensors, storageRanges: ranges)
    }

    /// The byte count a declared storage needs; when `bytes` is given, it must be exactly that.
    @discardableResult
    private static func checkStorageSize(
        _ key: String, _ declaration: RestrictedUnpickler.StorageDeclaration, bytes: Int?
    ) throws(TorchCheckpointError) -> Int {
        let (needed, overflow) = declaration.elementCount.multipliedReportingOverflow(by: declaration.type.elementSize)
        guard !overflow else {
            throw TorchCheckpointError(.invalidStorage, "storage '\(key)': \(declaration.elementCount) elements overflow")
        }
        if let bytes, bytes != needed {
            throw TorchCheckpointError(
                .invalidStorage,
                "storage '\(key)' holds \(bytes) bytes but is declared as \(declaration.elementCount) \(declaration.type.rawValue) (\(needed) bytes)")
        }
        return needed
    }
}
