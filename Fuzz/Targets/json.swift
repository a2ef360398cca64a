// Fuzz target: Quiver's strict JSON parser (every config, header and tokenizer.json goes through it).
// Built into module QuiverTensor by scripts/fuzz.sh; see docs/fuzzing.md.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    // What the writer prints from a parsed value parses back to the same value.
    let text = JSONWriter.serialize(value)
    guard let again = try? JSONParser.parse(text) else { fatalError("serialised JSON does not parse: \(text.prefix(200))") }
    guard JSONWriter.serialize(again) == text else { fatalError("JSON round trip is not stable: \(text.prefix(200))") }
    return 0
}
