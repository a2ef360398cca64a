// Fuzz target: the BERT tokenizer on outside text (invalid UTF-8, control and combining characters, long
// words, text pairs, tiny and huge length limits) and on outside tokenizer files (vocab.txt, tokenizer.json,
// tokenizer_config.json). Built into module QuiverModel (its Tokenizer folder) by scripts/fuzz.sh.

import Foundation

private let vocabulary = """
    [PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nthe\nquick\nbrown\nfox\n##es\n##s\n##ing\nun\n##able\nde\n##ja\n
    vu\n,\n.\n!\n?\n'\n-\n中\n国\n##x\na\nb\nc\né\ne\n##é\n##e
    """.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }

private let tokenizers: [BertTokenizer] = [
    try! BertTokenizer(vocabulary: Vocabulary(tokens: vocabulary), configuration: .uncased),
    try! BertTokenizer(vocabulary: Vocabulary(tokens: vocabulary), configuration: .cased),
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let control = bytes.first else { return 0 }
    let rest = Array(bytes.dropFirst())
    switch control % 4 {
    case 0, 1:
        // Text as a request or a data file brings it: decoded leniently, split into a pair at a 0 byte.
        let parts = rest.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        let text = String(decoding: parts[0], as: UTF8.self)
        let pair = parts.count > 1 ? String(decoding: parts[1], as: UTF8.self) : nil
        let tokenizer = tokenizers[Int(control % 2)]
        let maxLength = [Int.min, -1, 0, 1, 2, 3, 8, 512, Int.max][Int(control >> 2) % 9]
        let encoding = tokenizer.encode(text, pair: pair, maxLength: maxLength)
        guard encoding.ids.count == encoding.typeIds.count, encoding.ids.count == encoding.attentionMask.count,
              encoding.ids.count <= max(maxLength, pair == nil ? 2 : 3),
              encoding.ids.allSatisfy({ $0 >= 0 && Int($0) < vocabulary.count })
        else { fatalError("inconsistent encoding for maxLength \(maxLength)") }
        _ = tokenizer.tokenize(text)
        _ = tokenizer.encodeBatch([text, pair ?? ""], pairs: [pair, nil], maxLength: maxLength)
    default:
        // Tokenizer files as a base model folder brings them.
        let name = ["tokenizer.json", "vocab.txt", "tokenizer_config.json", "config.json"][Int(control >> 2) % 4]
        var files: [String: [UInt8]] = ["vocab.txt": Array(vocabulary.joined(separator: "\n").utf8)]
        files[name] = rest
        if let tokenizer = try? BertTokenizer(files: files, source: "fuzz") {
            _ = tokenizer.encode("The quick brown fox, déjà vu! 中国", pair: "unable", maxLength: 16)
            _ = tokenizer.tokenize(String(decoding: rest.prefix(256), as: UTF8.self))
        }
    }
    return 0
}
