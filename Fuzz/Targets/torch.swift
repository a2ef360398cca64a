// Fuzz target: PyTorch checkpoints (torch.save's zip archive and legacy format): the zip reader, the restricted
// unpickler, tensor views and the conversion to safetensors.
// Built into module QuiverTensor by scripts/fuzz.sh; see docs/fuzzing.md.
//
// Each input is read twice: as a whole file, and — unless it is a zip — as the data.pkl of a zip the harness
// builds around it, with a storage of the declared size for every storage the pickle declares. Mutated pickles
// inside a real zip would only meet the CRC-32 check; this way they reach the tensor checks and the copy.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorch(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    read(bytes)
    if !bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]), let archive = archiveAround(pickle: bytes) { read(archive) }
    return 0
}

/// Reads `bytes` as a checkpoint; a refusal must be one line naming the source, a checkpoint must convert.
private func read(_ bytes: [UInt8]) {
    let checkpoint: TorchCheckpoint
    do {
        checkpoint = try TorchCheckpoint(bytes: bytes, source: "fuzz.bin")
    } catch {
        guard error.description.hasPrefix("fuzz.bin: "), !error.description.contains("\n") else {
            fatalError("not a one-line error naming the file: \(error.description)")
        }
        return
    }
    checkConversion(checkpoint, fileSize: bytes.count)
}

/// What a checkpoint promises: its bytes stay within the bound, the conversion is a valid canonical safetensors
/// file with the same names, dtypes and shapes, and each tensor's bytes are the element-by-element copy of its view.
private func checkConversion(_ checkpoint: TorchCheckpoint, fileSize: Int) {
    guard checkpoint.byteCount <= TorchCheckpoint.conversionLimit(fileSize: fileSize) else {
        fatalError("\(checkpoint.byteCount) bytes from a \(fileSize)-byte file")
    }
    guard let file = try? checkpoint.safetensors() else { fatalError("the conversion does not parse as safetensors") }
    guard file.isCanonical, file.header.dataLength == checkpoint.byteCount, file.tensorNames.count == checkpoint.tensors.count else {
        fatalError("the conversion is not canonical or lost tensors")
    }
    for (tensor, view) in zip(checkpoint.tensors, checkpoint.views) {
        guard let info = try? file.info(tensor.name), info.dtype == tensor.dtype, info.shape == tensor.shape else {
            fatalError("tensor \(tensor.name) changed its dtype or shape")
        }
        var expected = [UInt8](repeating: 0, count: info.byteCount)
        checkpoint.withStorage(view.storage) { storage in
            expected.withUnsafeMutableBytes { StridedCopy.reference(view, from: storage, into: $0) }
        }
        guard file.withBytes(of: info, { $0.elementsEqual(expected) }) else { fatalError("tensor \(tensor.name) changed its bytes") }
    }
}

/// A stored zip laid out like torch's around `pickle`, with `data/<key>` of the declared size for each storage the
/// pickle declares (nil when it does not load, or its storages would take more than 1 MiB).
private func archiveAround(pickle: [UInt8]) -> [UInt8]? {
    let declared: [String: RestrictedUnpickler.StorageDeclaration]? = pickle.withUnsafeBytes { buffer in
        var unpickler = RestrictedUnpickler(buffer, label: "data.pkl")
        guard (try? unpickler.load()) != nil else { return nil }
        return unpickler.storages
    }
    guard let declared else { return nil }
    var entries: [(String, [UInt8])] = [("archive/data.pkl", pickle), ("archive/byteorder", Array("little".utf8))]
    var total = 0
    for key in declared.keys.sorted() {
        let (bytes, overflow) = declared[key]!.elementCount.multipliedReportingOverflow(by: declared[key]!.type.elementSize)
        total += bytes
        guard !overflow, total <= 1 << 20 else { return nil }
        entries.append(("archive/data/\(key)", (0..<bytes).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }))
    }
    return storedZip(entries)
}

private func storedZip(_ entries: [(name: String, data: [UInt8])]) -> [UInt8] {
    var out: [UInt8] = [], central: [UInt8] = []
    func u16(_ value: Int, _ into: inout [UInt8]) { into += withUnsafeBytes(of: UInt16(value).littleEndian, Array.init) }
    func u32(_ value: UInt32, _ into: inout [UInt8]) { into += withUnsafeBytes(of: value.littleEndian, Array.init) }
    for (name, data) in entries {
        let offset = UInt32(out.count), nameBytes = Array(name.utf8)
        let crc = data.withUnsafeBytes { CRC32.checksum($0) }
        u32(0x0403_4B50, &out); u16(20, &out); u16(0, &out); u16(0, &out); u32(0, &out)
        u32(crc, &out); u32(UInt32(data.count), &out); u32(UInt32(data.count), &out); u16(nameBytes.count, &out); u16(0, &out)
        out += nameBytes + data
        u32(0x0201_4B50, &central); u16(20, &central); u16(20, &central); u16(0, &central); u16(0, &central); u32(0, &central)
        u32(crc, &central); u32(UInt32(data.count), &central); u32(UInt32(data.count), &central); u16(nameBytes.count, &central)
        u16(0, &central); u16(0, &central); u16(0, &central); u16(0, &central); u32(0, &central); u32(offset, &central)
        central += nameBytes
    }
    let start = UInt32(out.count)
    out += central
    u32(0x0605_4B50, &out); u16(0, &out); u16(0, &out); u16(entries.count, &out); u16(entries.count, &out)
    u32(UInt32(central.count), &out); u32(start, &out); u16(0, &out)
    return out
}
