import Foundation
import QuiverTensor

// MARK: - Tokenizers

/// Loads the tokenizer of a Hugging Face model folder, whatever its family:
/// - `tokenizer.json`: WordPiece → `BertTokenizer`; BPE or Unigram → `SubwordTokenizer`;
/// - else `vocab.txt` → `BertTokenizer`;
/// - else `vocab.json` + `merges.txt` → a RoBERTa byte-level BPE `SubwordTokenizer`, as transformers'
///   `RobertaTokenizerFast` builds it from those files;
/// - else `sentencepiece.bpe.model` → an XLM-R Unigram `SubwordTokenizer`, as transformers converts it.
///
/// `tokenizer_config.json`'s `model_max_length` (else `config.json`'s positions) sets `modelMaxLength`.
public enum Tokenizers {
    /// The file names `load(folder:)` reads when present.
    public static let fileNames = [
        "tokenizer.json", "vocab.txt", "vocab.json", "merges.txt", "sentencepiece.bpe.model",
        "tokenizer_config.json", "special_tokens_map.json", "config.json",
    ]

    /// A tokenizer from the files of a model folder held in memory, by file name; errors name each file as
    /// `source/name`.
    public static func load(files: [String: [UInt8]], source: String) throws(TokenizerError) -> any TextTokenizer {
        func path(_ name: String) -> String { source + "/" + name }
        if let bytes = files["tokenizer.json"] {
            let file = try JSONFile(bytes: bytes, source: path("tokenizer.json"))
            if try file.string("model.type") == "WordPiece" {
                return try BertTokenizer(files: files, source: source)
            }
            return try SubwordTokenizer(
                tokenizerJSON: file, modelMaxLength: try modelMaxLength(files: files, source: source))
        }
        if files["vocab.txt"] != nil { return try BertTokenizer(files: files, source: source) }
        if let vocab = files["vocab.json"], let merges = files["merges.txt"] {
            return try SubwordTokenizer(
                robertaVocab: vocab, merges: merges, files: files, source: source,
                modelMaxLength: try modelMaxLength(files: files, source: source))
        }
        if let model = files["sentencepiece.bpe.model"] {
            return try SubwordTokenizer(
                xlmRobertaSentencePiece: model, source: path("sentencepiece.bpe.model"),
                modelMaxLength: try modelMaxLength(files: files, source: source))
        }
        throw .noTokenizerFiles(folder: source)
    }

    /// A tokenizer from a model folder on disk (see `load(files:source:)`).
    public static func load(folder: URL) throws(TokenizerError) -> any TextTokenizer {
        var files: [String: [UInt8]] = [:]
        for name in fileNames {
            let url = folder.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: url.path) { files[name] = try readFile(url) }
        }
        return try load(files: files, source: folder.path)
    }

    /// `tokenizer_config.json`'s `model_max_length` when it is a real limit, else `config.json`'s
    /// `max_position_embeddings` (minus RoBERTa's two padding offsets) or `n_positions`, else 512.
    static func modelMaxLength(files: [String: [UInt8]], source: String) throws(TokenizerError) -> Int {
        if let bytes = files["tokenizer_config.json"] {
            let file = try JSONFile(bytes: bytes, source: source + "/tokenizer_config.json")
            if let maxLength = try file.number("model_max_length") {
                guard maxLength >= 1 else { throw file.invalid("model_max_length", "\(maxLength) is not positive") }
                if maxLength < Double(Int32.max) { return Int(maxLength) }
            }
        }
        if let bytes = files["config.json"] {
            let file = try JSONFile(bytes: bytes, source: source + "/config.json")
            let offset = ["roberta", "xlm-roberta", "camembert"].contains(try file.string("model_type") ?? "") ? 2 : 0
            for key in ["max_position_embeddings", "n_positions"] {
                if let positions = try file.int(key) {
                    guard positions > offset, positions <= Int(Int32.max) else {
                        throw file.invalid(key, "\(positions) is not a usable length")
                    }
                    return positions - offset
                }
            }
        }
        return 512
    }
}

// MARK: - Files without tokenizer.json

extension SubwordTokenizer {
    init(tokenizerJSON file: JSONFile, modelMaxLength: Int) throws(TokenizerError) {
        try self.init(root: JSONNode(value: file.root, path: "", source: file.source), modelMaxLength: modelMaxLength)
    }

    /// RoBERTa's `vocab.json` + `merges.txt`, with the special tokens and `add_prefix_space` of
    /// `tokenizer_config.json` / `special_tokens_map.json` (defaults: `<s>`, `</s>`, `<pad>`, `<unk>`, `<mask>`
    /// with lstrip, no prefix space), as transformers' `RobertaConverter` builds the fast tokenizer.
    init(
        robertaVocab vocabBytes: [UInt8], merges mergesBytes: [UInt8], files: [String: [UInt8]], source: String,
        modelMaxLength: Int
    ) throws(TokenizerError) {
        let vocabFile = try JSONFile(bytes: vocabBytes, source: source + "/vocab.json")
        var entries: [(token: String, id: Int)] = []
        for (token, value) in vocabFile.root.objectValue ?? [] {
            guard let id = value.intValue else {
                throw vocabFile.invalid("vocabulary", "the id of \(quoted(token)) is \(value.kindName), not an integer")
            }
            entries.append((token, id))
        }
        guard !entries.isEmpty else { throw .emptyVocabulary(source: vocabFile.source) }
        let vocabulary = try Vocabulary(entries: entries, source: vocabFile.source, field: "vocabulary")

        let mergesSource = source + "/merges.txt"
        guard let text = String(validating: mergesBytes, as: UTF8.self) else {
            throw .unreadableFile(path: mergesSource, reason: "not valid UTF-8")
        }
        var merges: [(String, String)] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(line)
            if line.hasSuffix("\r") { line = line.dropLast() }
            guard !line.isEmpty, !line.hasPrefix("#version") else { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw .invalidFile(source: mergesSource, reason: "line \(number + 1) is not \"left right\"")
            }
            merges.append((String(parts[0]), String(parts[1])))
        }
        let bpe = try BPEModel(
            vocabulary: vocabulary, merges: merges, unknownToken: nil, fuseUnknown: false, byteFallback: false,
            ignoreMerges: false, continuingSubwordPrefix: nil, endOfWordSuffix: nil,
            invalid: { field, reason in .invalidFile(source: mergesSource, reason: reason) })

        // Special tokens: RobertaTokenizer's defaults, then tokenizer_config.json, then special_tokens_map.json.
        var roles: [String: AddedToken] = [:]
        for (role, content) in [
            ("bos_token", "<s>"), ("eos_token", "</s>"), ("sep_token", "</s>"), ("cls_token", "<s>"),
            ("unk_token", "<unk>"), ("pad_token", "<pad>"), ("mask_token", "<mask>"),
        ] {
            roles[role] = AddedToken(content: content, id: -1, leftStrip: role == "mask_token", special: true)
        }
        var addPrefixSpace = false
        var declared: [AddedToken] = []
        for name in ["tokenizer_config.json", "special_tokens_map.json"] {
            guard let bytes = files[name] else { continue }
            let file = try JSONFile(bytes: bytes, source: source + "/" + name)
            let root = JSONNode(value: file.root, path: "", source: file.source)
            if name == "tokenizer_config.json", let value = try root.bool("add_prefix_space") { addPrefixSpace = value }
            for role in roles.keys.sorted() {
                guard let node = root.child(role) else { continue }
                roles[role] = try Self.addedToken(node, id: -1, defaultLeftStrip: role == "mask_token")
            }
            if let decoder = root.child("added_tokens_decoder"), let members = decoder.value.objectValue {
                for (key, _) in members {
                    guard let id = Int32(key), id >= 0 else {
                        throw decoder.invalid("\(quoted(key)) is not a token id")
                    }
                    declared.append(try Self.addedToken(decoder.child(key)!, id: id, defaultLeftStrip: false))
                }
            }
        }
        // Every special token gets its vocabulary id, or the id the config declares for it.
        var added: [AddedToken] = []
        for token in declared + roles.keys.sorted().map({ roles[$0]! }) {
            var token = token
            if let id = vocabulary.id(for: token.content) { token.id = id }
            guard token.id >= 0 else {
                throw .missingSpecialToken(source: vocabFile.source, role: "special", token: token.content)
            }
            if !added.contains(where: { $0.content.unicodeScalars.elementsEqual(token.content.unicodeScalars) }) {
                added.append(token)
            }
        }
        func idOf(_ role: String) -> Int32 {
            let content = roles[role]!.content
            return added.first { $0.content.unicodeScalars.elementsEqual(content.unicodeScalars) }!.id
        }
        self.init(
            model: .bpe(bpe), normalizer: nil, preTokenizer: .byteLevel(addPrefixSpace: addPrefixSpace, useRegex: true),
            postProcessor: .roberta(classifier: idOf("cls_token"), separator: idOf("sep_token")), addedTokens: added,
            paddingID: idOf("pad_token"), modelMaxLength: modelMaxLength)
    }

    /// An AddedToken written as a string or as `{"content": …, "lstrip": …}`.
    private static func addedToken(
        _ node: JSONNode, id: Int32, defaultLeftStrip: Bool
    ) throws(TokenizerError) -> AddedToken {
        if let content = node.value.stringValue {
            return AddedToken(content: content, id: id, leftStrip: defaultLeftStrip, special: true)
        }
        return AddedToken(
            content: try node.requiredString("content"), id: id, singleWord: try node.bool("single_word") ?? false,
            leftStrip: try node.bool("lstrip") ?? defaultLeftStrip, rightStrip: try node.bool("rstrip") ?? false,
            normalized: try node.bool("normalized") ?? false, special: try node.bool("special") ?? true)
    }

    /// XLM-R's `sentencepiece.bpe.model`, as transformers' `XLMRobertaConverter` turns it into a fast tokenizer:
    /// fairseq ids (`<s>` 0, `<pad>` 1, `</s>` 2, `<unk>` 3, then the pieces from the fourth one, `<mask>` last),
    /// the model's precompiled normalizer then Strip (right) and Replace(` {2,}` → `▁`), Metaspace, and
    /// `<s> A </s>` / `<s> A </s></s> B </s>`.
    init(xlmRobertaSentencePiece bytes: [UInt8], source: String, modelMaxLength: Int) throws(TokenizerError) {
        let proto = try SentencePieceModel(bytes: bytes, source: source)
        guard proto.pieces.count >= 3 else {
            throw .invalidFile(source: source, reason: "\(proto.pieces.count) pieces (an XLM-R model has at least 3)")
        }
        var pieces = ["<s>", "<pad>", "</s>", "<unk>"]
        var scores: [Double] = [0, 0, 0, 0]
        for piece in proto.pieces.dropFirst(3) {
            pieces.append(piece.piece)
            scores.append(Double(piece.score))
        }
        pieces.append("<mask>")
        scores.append(0)
        guard pieces.count <= Int(Int32.max) else { throw .invalidFile(source: source, reason: "too many pieces") }
        let vocabulary = try Vocabulary(tokens: pieces, source: source)
        let unigram = try UnigramModel(
            vocabulary: vocabulary, scores: scores, unknownID: 3, byteFallback: false,
            invalid: { field, reason in .invalidFile(source: source, reason: "\(field): \(reason)") })
        var normalizers: [TextNormalizer] = []
        if !proto.precompiledCharsmap.isEmpty {
            do {
                normalizers.append(.precompiled(try PrecompiledCharsmap(bytes: proto.precompiledCharsmap)))
            } catch {
                throw .invalidFile(
                    source: source, reason: "the normalizer's precompiled charsmap is invalid (\(error))")
            }
        }
        normalizers.append(.strip(left: false, right: true))
        normalizers.append(.replace(.run(" ", minimum: 2), content: "▁"))
        let maskID = Int32(pieces.count - 1)
        let added = [
            AddedToken(content: "<s>", id: 0, special: true), AddedToken(content: "<pad>", id: 1, special: true),
            AddedToken(content: "</s>", id: 2, special: true), AddedToken(content: "<unk>", id: 3, special: true),
            AddedToken(content: "<mask>", id: maskID, leftStrip: true, normalized: true, special: true),
        ]
        self.init(
            model: .unigram(unigram), normalizer: .sequence(normalizers),
            preTokenizer: .metaspace(
                replacement: 0x2581, prependScheme: proto.addDummyPrefix ? .always : .never, split: true),
            postProcessor: .roberta(classifier: 0, separator: 2), addedTokens: added, paddingID: 1,
            modelMaxLength: modelMaxLength)
    }
}
