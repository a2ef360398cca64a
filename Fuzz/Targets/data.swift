// Fuzz target: training and evaluation data files (JSON Lines, CSV, TSV; named or sniffed from the first
// bytes), read whole and streamed in small chunks as `Dataset.load` streams a file. The first input byte
// sets the chunk size; the rest is the file.
// Built into module QuiverModel (its Data/ folder) by scripts/fuzz.sh; see docs/fuzzing.md.


@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzData(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let chunkSize = Int(data[0]) % 64 + 1
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    for format in [nil] + DataFormat.allCases.map(Optional.some) {
        let whole = Result { try Dataset(bytes: bytes, source: "fuzz", format: format) }
        let streamed = Result { () throws -> Dataset in
            var decoder = DataDecoder(source: "fuzz", format: format, maximumRowBytes: Dataset.maximumRowBytes)
            try bytes.withUnsafeBufferPointer { buffer in
                for start in stride(from: 0, to: buffer.count, by: chunkSize) {
                    try decoder.consume(UnsafeBufferPointer(rebasing: buffer[start..<min(start + chunkSize, buffer.count)]))
                }
            }
            return try decoder.finish(digest: Digest.of(bytes), byteCount: bytes.count)
        }
        switch (whole, streamed) {
        case (.success(let dataset), .success(let other)):
            guard dataset.examples == other.examples, dataset.labels == other.labels, dataset.format == other.format else {
                fatalError("reading whole and in chunks of \(chunkSize) differ")
            }
            check(dataset)
        case (.failure(let error), .failure(let other)):
            guard "\(error)" == "\(other)" else { fatalError("whole: \(error); in chunks of \(chunkSize): \(other)") }
        case (.success, .failure(let error)), (.failure(let error), .success):
            fatalError("only one way of reading failed: \(error)")
        }
    }
    return 0
}

/// What training and evaluation rely on.
private func check(_ dataset: Dataset) {
    guard !dataset.examples.isEmpty, Set(dataset.labels).count == dataset.labels.count,
          Set(dataset.labels) == Set(dataset.examples.map(\.label))
    else { fatalError("labels \(dataset.labels) are not the examples' distinct labels") }
    if dataset.integerLabels, dataset.labels.contains(where: { Int($0) == nil }) { fatalError("integer labels that are not integers") }
    let lines = dataset.examples.map(\.line)
    guard zip(lines, lines.dropFirst()).allSatisfy({ $0 < $1 }), lines[0] >= 1 else { fatalError("line numbers \(lines.prefix(8)) not increasing") }
    let batches = dataset.batches(size: 7, seed: 1)
    guard batches.flatMap({ $0 }).sorted() == Array(0..<dataset.count) else { fatalError("batches do not cover every example once") }
}
