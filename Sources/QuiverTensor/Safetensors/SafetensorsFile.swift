/// A validated safetensors file whose tensors are read in place (memory-mapped for files on disk).
///
/// ```swift
/// let file = try SafetensorsFile(path: "adapter.safetensors")
/// for info in file.header.tensors { print(info.name, info.shape) }
/// let weights: [Float] = try file.floats("bert.encoder.layer.0.output.adapters.a.adapter_down.0.weight")
/// ```
public final class SafetensorsFile: @unchecked Sendable {
    public let header: SafetensorsHeader
    /// The path or label used in error messages.
    public let source: String
    private let storage: Storage

    private enum Storage {
        case mapped(MappedFile)
        case memory([UInt8])
    }

    public init(path: String) throws {
        let mapped = try MappedFile(path: path)
        do {
            header = try mapped.withBytes { (bytes) throws in
                try SafetensorsHeader.parse(prefix: bytes, fileLength: bytes.count)
            }
        } catch let error as SafetensorsError {
            throw error.from(path)
        }
        source = path
        storage = .mapped(mapped)
    }

    public init(bytes: [UInt8], source: String = "<memory>") throws {
        do {
            header = try bytes.withUnsafeBytes { (buffer) throws in
                try SafetensorsHeader.parse(prefix: buffer, fileLength: buffer.count)
            }
        } catch let error as SafetensorsError {
            throw error.from(source)
        }
        self.source = source
        storage = .memory(bytes)
    }

    public var tensorNames: [String] { header.tensors.map(\.name) }

    /// The whole file's bytes; valid only inside `body`.
    public func withFileBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .mapped(let file): try file.withBytes(body)
        case .memory(let bytes): try bytes.withUnsafeBytes(body)
        }
    }

    public func info(_ name: String) throws -> TensorInfo {
        guard let info = header.tensor(named: name) else {
            throw SafetensorsError(.tensorNotFound, "no tensor named '\(name)'", source: source)
        }
        return info
    }

    /// The raw little-endian bytes of one tensor; valid only inside `body`.
    public func withBytes<R>(of info: TensorInfo, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let start = header.dataOffset + info.dataRange.lowerBound
        return try withFileBytes { file in
            try body(UnsafeRawBufferPointer(rebasing: file[start..<(start + info.byteCount)]))
        }
    }

    /// A copy of one tensor's bytes with its type and shape.
    public func tensorData(_ name: String) throws -> TensorData {
        let info = try info(name)
        let bytes = withBytes(of: info) { Array($0) }
        return TensorData(dtype: info.dtype, shape: info.shape, bytes: bytes)
    }

    /// One tensor converted to Float (from F32, F16, BF16, F64, or an integer type).
    public func floats(_ name: String) throws -> [Float] {
        let info = try info(name)
        do {
            return try withBytes(of: info) { try FloatConversion.floats(from: $0, dtype: info.dtype) }
        } catch let error as SafetensorsError {
            throw SafetensorsError(error.kind, "tensor '\(name)': \(error.message)", source: source)
        }
    }

    /// One integer tensor (I32, I64 and the narrower integer types) as Int64 values.
    public func integers(_ name: String) throws -> [Int64] {
        let info = try info(name)
        do {
            return try withBytes(of: info) { try FloatConversion.integers(from: $0, dtype: info.dtype) }
        } catch let error as SafetensorsError {
            throw SafetensorsError(error.kind, "tensor '\(name)': \(error.message)", source: source)
        }
    }

    // MARK: - Canonical form

    /// The canonical layout of this file's tensors and metadata.
    public var canonicalLayout: SafetensorsLayout {
        SafetensorsLayout(tensors: header.tensors.map { ($0.name, $0.dtype, $0.shape) }, metadata: header.metadata)
    }

    /// True when the file's bytes already are its canonical serialisation.
    public var isCanonical: Bool {
        let layout = canonicalLayout
        return withFileBytes { file in
            guard file.count == layout.totalLength else { return false }
            guard layout.headerBytes.elementsEqual(file[0..<layout.headerBytes.count]) else { return false }
            // Same header bytes imply the same offsets, so the data section is laid out identically.
            return true
        }
    }

    /// The canonical serialisation as consecutive byte ranges: the canonical header, then each
    /// tensor's bytes in canonical order, untouched (valid only inside `body`).
    public func withCanonicalSegments<R>(_ body: ([UnsafeRawBufferPointer]) throws -> R) rethrows -> R {
        let layout = canonicalLayout
        let ranges = Dictionary(uniqueKeysWithValues: header.tensors.map { ($0.name, $0.dataRange) })
        return try layout.headerBytes.withUnsafeBytes { headerBytes in
            try withFileBytes { file in
                var segments = [headerBytes]
                for entry in layout.entries {
                    let range = ranges[entry.name]!
                    let start = header.dataOffset + range.lowerBound
                    segments.append(UnsafeRawBufferPointer(rebasing: file[start..<(start + range.count)]))
                }
                return try body(segments)
            }
        }
    }

    public func canonicalBytes() -> [UInt8] {
        withCanonicalSegments { segments in segments.reduce(into: [UInt8]()) { $0.append(contentsOf: $1) } }
    }
}
