// Fuzz target: the byte-level BPE and Unigram tokenizers (`SubwordTokenizer`) on outside text, with the parity
// fixtures' tokenizers (RoBERTa, Llama-2, Llama-3, Qwen2, Split variants, XLM-R, byte fallback), and on outside
// tokenizer files (tokenizer.json, merges.txt, vocab.json, sentencepiece.bpe.model). Built into module
// QuiverModel (its Tokenizer folder) by scripts/fuzz.sh, run from the package root (the fixtures are read from
// Tests/QuiverModelTests/Fixtures/tokenizers).

import Foundation

private let fixtureFolder = "Tests/QuiverModelTests/Fixtures/tokenizers/"

private let fixtures: [SubwordTokenizer] = [
    "bpe", "bpe-extras", "bpe-metaspace", "bpe-llama3", "bpe-qwen2", "bpe-split-a", "bpe-split-b", "unigram",
    "unigram-variants", "unigram-bytefallback", "bpe-legacy", "unigram-legacy",
].map { name in
    do {
        return try Tokenizers.load(folder: URL(fileURLWithPath: fixtureFolder + name)) as! SubwordTokenizer
    } catch {
        fatalError("run from the package root: \(error)")
    }
}

private func fixtureFile(_ path: String) -> [UInt8] {
    [UInt8](FileManager.default.contents(atPath: fixtureFolder + path) ?? Data())
}

private let legacyVocab = fixtureFile("bpe-legacy/vocab.json")
private let legacyMerges = fixtureFile("bpe-legacy/merges.txt")
private let maxLengths = [Int.min, -1, 0, 1, 2, 3, 5, 16, 512, Int.max]

/// Keeps results alive so that the optimiser does not drop their computation (and its checks).
nonisolated(unsafe) var fuzzSink = 0

/// The invariants of any encoding: aligned arrays, the length limit, ids below `idLimit` when given, the same ids
/// twice, the special tokens kept when the limit leaves room only for them.
private func check(_ tokenizer: SubwordTokenizer, _ text: String, pair: String?, maxLength: Int, idLimit: Int?) {
    let encoding = tokenizer.encode(text, pair: pair, maxLength: maxLength)
    let added = tokenizer.postProcessor.addedCount(isPair: pair != nil)
    guard encoding.ids.count == encoding.typeIds.count, encoding.ids.count == encoding.attentionMask.count
    else { fatalError("unaligned encoding") }
    guard encoding.ids.count <= max(maxLength, added) else {
        fatalError("\(encoding.ids.count) ids for maxLength \(maxLength)")
    }
    if let idLimit, !encoding.ids.allSatisfy({ $0 >= 0 && Int($0) < idLimit }) {
        fatalError("an id outside 0..<\(idLimit)")
    }
    let ids = tokenizer.tokenIDs(text)
    guard tokenizer.tokenIDs(text) == ids else { fatalError("two encodings of one text differ") }
    if let idLimit, !ids.allSatisfy({ $0 >= 0 && Int($0) < idLimit }) { fatalError("an id outside 0..<\(idLimit)") }
    // With room for nothing else, the encoding is the special tokens alone.
    guard tokenizer.encode(text, pair: pair, maxLength: added).ids
        == tokenizer.postProcessor.process([], pair == nil ? nil : []).ids
    else { fatalError("special tokens lost under truncation") }
    fuzzSink &+= ids.count &+ encoding.ids.count
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSubwordTokenizer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard bytes.count >= 2 else { return 0 }
    let control = bytes[0], choice = Int(bytes[1])
    let rest = Array(bytes.dropFirst(2))
    let maxLength = maxLengths[Int(control >> 2) % maxLengths.count]
    switch control % 4 {
    case 0, 1:
        // Text for a fixture tokenizer: decoded leniently, split into a pair at a 0 byte.
        let tokenizer = fixtures[choice % fixtures.count]
        let parts = rest.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        let text = String(decoding: parts[0], as: UTF8.self)
        let pair = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : nil
        check(tokenizer, text, pair: pair, maxLength: maxLength, idLimit: tokenizer.idCount)
        // A special token written after the text (a space apart: no token spans it) is matched whole.
        let specials = tokenizer.addedTokens.filter { $0.special && !$0.normalized && !$0.singleWord }
        if !specials.isEmpty {
            let special = specials[choice % specials.count]
            guard tokenizer.tokenIDs(text + " " + special.content).last == special.id else {
                fatalError("special token \(special.content) not kept")
            }
        }
        let batch = tokenizer.encodeBatch([text, pair ?? ""], pairs: [pair, nil], maxLength: maxLength)
        guard batch.ids.count == batch.attentionMask.count else { fatalError("unaligned batch") }
        fuzzSink &+= batch.ids.count
    default:
        // Tokenizer files as a model folder brings them.
        var files: [String: [UInt8]]
        switch (Int(control % 4) - 2) * 2 + choice % 2 {
        case 0, 1: files = ["tokenizer.json": rest]
        case 2: files = ["vocab.json": legacyVocab, "merges.txt": rest]
        default:
            files = choice % 4 == 1 ? ["vocab.json": rest, "merges.txt": legacyMerges] : ["sentencepiece.bpe.model": rest]
        }
        guard let tokenizer = try? Tokenizers.load(files: files, source: "fuzz") as? SubwordTokenizer else { return 0 }
        let sample = String(decoding: rest.prefix(64), as: UTF8.self)
        for text in ["Hello, world! déjà vu 中文 😀 don't  <mask> 123", sample] {
            check(tokenizer, text, pair: "second", maxLength: maxLength, idLimit: nil)
            check(tokenizer, text, pair: nil, maxLength: maxLength, idLimit: nil)
        }
    }
    return 0
}
