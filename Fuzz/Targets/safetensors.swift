// Fuzz target: safetensors files (header length, JSON header, offsets, typed access, canonical form).
// Built into module QuiverTensor by scripts/fuzz.sh; see docs/fuzzing.md.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let file = try? SafetensorsFile(bytes: bytes, source: "fuzz") else { return 0 }
    // Everything a valid header promises must hold: every tensor is readable in every typed view.
    for info in file.header.tensors {
        _ = try? file.floats(info.name)
        _ = try? file.integers(info.name)
        _ = try? file.tensorData(info.name)
    }
    // The canonical form of a valid file is itself a valid file with the same tensors and bytes.
    let canonical = file.canonicalBytes()
    guard let again = try? SafetensorsFile(bytes: canonical, source: "canonical") else {
        fatalError("canonical form of a valid file does not parse")
    }
    guard again.isCanonical, Set(again.tensorNames) == Set(file.tensorNames) else {
        fatalError("canonical form is not canonical or lost tensors")
    }
    for info in file.header.tensors {
        let before = file.withBytes(of: info) { Array($0) }
        let after = again.withBytes(of: try! again.info(info.name)) { Array($0) }
        guard before == after else { fatalError("canonical form changed the bytes of \(info.name)") }
    }
    return 0
}
