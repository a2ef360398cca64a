import Foundation
import QuiverTensor

// MARK: - tokenizer.json

/// What a Hugging Face `tokenizer.json` describes, for the subset Quiver implements: a `WordPiece` model, a
/// `BertNormalizer` (or none), the `BertPreTokenizer`, and BERT's `[CLS] A [SEP] (B [SEP])` post-processor
/// (`TemplateProcessing` or `BertProcessing`). Anything else is reported as `TokenizerError.unsupported`.
///
/// The `truncation` and `padding` sections are accepted and ignored: lengths are chosen per call, and
/// batches are padded to their longest row.
struct TokenizerJSON {
    let vocabulary: Vocabulary
    let configuration: BertTokenizer.Configuration

    init(url: URL) throws(TokenizerError) {
        try self.init(file: JSONFile(url: url))
    }

    init(file: JSONFile) throws(TokenizerError) {
        var configuration = BertTokenizer.Configuration()
        vocabulary = try Self.readModel(file, into: &configuration)
        try Self.readNormalizer(file, into: &configuration)
        try Self.checkPreTokenizer(file)
        try Self.readPostProcessor(file, vocabulary: vocabulary, into: &configuration)
        if let padToken = try file.string("padding.pad_token") { configuration.paddingToken = padToken }
        try Self.readAddedTokens(file, vocabulary: vocabulary, into: &configuration)
        _ = try file.object("truncation")
        _ = try file.object("padding")
        self.configuration = configuration
    }

    // MARK: model

    private static func readModel(
        _ file: JSONFile, into configuration: inout BertTokenizer.Configuration
    ) throws(TokenizerError) -> Vocabulary {
        guard try file.object("model") != nil else { throw file.invalid("model", "missing") }
        guard let type = try file.string("model.type") else { throw file.invalid("model.type", "missing") }
        guard type == "WordPiece" else { throw file.unsupported("model.type", type) }
        guard let vocab = try file.object("model.vocab")?.objectValue else {
            throw file.invalid("model.vocab", "missing")
        }
        var entries: [(token: String, id: Int)] = []
        entries.reserveCapacity(vocab.count)
        for (token, value) in vocab {
            guard let id = value.intValue else {
                throw file.invalid("model.vocab", "the id of \(quoted(token)) is \(value.kindName), not an integer")
            }
            entries.append((token, id))
        }
        guard !entries.isEmpty else { throw .emptyVocabulary(source: file.source) }
        let vocabulary = try Vocabulary(entries: entries, source: file.source, field: "model.vocab")

        if let unknown = try file.string("model.unk_token") { configuration.unknownToken = unknown }
        if let prefix = try file.string("model.continuing_subword_prefix") {
            configuration.continuingSubwordPrefix = prefix
        }
        if let maxChars = try file.int("model.max_input_chars_per_word") {
            guard maxChars > 0 else {
                throw file.invalid("model.max_input_chars_per_word", "\(maxChars) is not positive")
            }
            configuration.maxInputCharsPerWord = maxChars
        }
        return vocabulary
    }

    // MARK: normalizer and pre-tokenizer

    private static func readNormalizer(
        _ file: JSONFile, into configuration: inout BertTokenizer.Configuration
    ) throws(TokenizerError) {
        guard try file.object("normalizer") != nil else {
            // No normalizer: the text reaches the pre-tokenizer as written.
            configuration.cleanText = false
            configuration.tokenizeChineseChars = false
            configuration.stripAccents = false
            configuration.lowercase = false
            return
        }
        let type = try file.string("normalizer.type") ?? "(none)"
        guard type == "BertNormalizer" else { throw file.unsupported("normalizer.type", type) }
        configuration.cleanText = try file.bool("normalizer.clean_text") ?? true
        configuration.tokenizeChineseChars = try file.bool("normalizer.handle_chinese_chars") ?? true
        configuration.stripAccents = try file.bool("normalizer.strip_accents")  // null follows lowercase
        configuration.lowercase = try file.bool("normalizer.lowercase") ?? true
    }

    private static func checkPreTokenizer(_ file: JSONFile) throws(TokenizerError) {
        guard try file.object("pre_tokenizer") != nil else { throw file.unsupported("pre_tokenizer", "null") }
        let type = try file.string("pre_tokenizer.type") ?? "(none)"
        guard type == "BertPreTokenizer" else { throw file.unsupported("pre_tokenizer.type", type) }
    }

    // MARK: post-processor

    private static func readPostProcessor(
        _ file: JSONFile, vocabulary: Vocabulary, into configuration: inout BertTokenizer.Configuration
    ) throws(TokenizerError) {
        guard try file.object("post_processor") != nil else { throw file.unsupported("post_processor", "null") }
        let type = try file.string("post_processor.type") ?? "(none)"
        let cls: (token: String, id: Int?)
        let sep: (token: String, id: Int?)
        switch type {
        case "BertProcessing":
            cls = try tokenAndID(file, "post_processor.cls")
            sep = try tokenAndID(file, "post_processor.sep")
        case "TemplateProcessing":
            (cls, sep) = try bertTemplate(file)
        default:
            throw file.unsupported("post_processor.type", type)
        }
        for (role, special) in [("classifier", cls), ("separator", sep)] {
            guard let vocabularyID = vocabulary.id(for: special.token) else {
                throw .missingSpecialToken(source: file.source, role: role, token: special.token)
            }
            if let id = special.id, id != Int(vocabularyID) {
                throw file.invalid(
                    "post_processor", "\(quoted(special.token)) has id \(id) but \(vocabularyID) in model.vocab")
            }
        }
        configuration.classifierToken = cls.token
        configuration.separatorToken = sep.token
    }

    /// A `["[CLS]", 101]` pair of BertProcessing.
    private static func tokenAndID(_ file: JSONFile, _ path: String) throws(TokenizerError) -> (String, Int?) {
        guard let pair = try file.array(path), pair.count == 2, let token = pair[0].stringValue,
            let id = pair[1].intValue
        else { throw file.invalid(path, "expected [token, id]") }
        return (token, id)
    }

    /// Checks that the template is exactly BERT's and returns its two special tokens with their ids.
    private static func bertTemplate(
        _ file: JSONFile
    ) throws(TokenizerError) -> (cls: (token: String, id: Int?), sep: (token: String, id: Int?)) {
        enum Piece: Equatable {
            case special(String, typeID: Int)
            case sequence(String, typeID: Int)
        }
        func pieces(_ path: String) throws(TokenizerError) -> [Piece] {
            guard let items = try file.array(path) else { throw file.invalid(path, "missing") }
            var pieces: [Piece] = []
            for item in items {
                if let special = item["SpecialToken"], let id = special["id"]?.stringValue,
                    let typeID = special["type_id"]?.intValue
                {
                    pieces.append(.special(id, typeID: typeID))
                } else if let sequence = item["Sequence"], let id = sequence["id"]?.stringValue,
                    let typeID = sequence["type_id"]?.intValue
                {
                    pieces.append(.sequence(id, typeID: typeID))
                } else {
                    throw file.invalid(path, "expected SpecialToken or Sequence items")
                }
            }
            return pieces
        }
        let single = try pieces("post_processor.single")
        let pair = try pieces("post_processor.pair")
        guard single.count == 3, case .special(let cls, 0) = single[0], case .special(let sep, 0) = single[2],
            single[1] == .sequence("A", typeID: 0),
            pair == [
                .special(cls, typeID: 0), .sequence("A", typeID: 0), .special(sep, typeID: 0),
                .sequence("B", typeID: 1), .special(sep, typeID: 1),
            ]
        else {
            throw file.unsupported(
                "post_processor template", "only \"[CLS] $A [SEP]\" and \"[CLS] $A [SEP] $B:1 [SEP]:1\" are supported")
        }
        // The ids the template emits for each special token must be that token alone.
        func templateID(_ token: String) throws(TokenizerError) -> Int? {
            guard let entry = file.value("post_processor.special_tokens")?[token] else { return nil }
            guard let ids = entry["ids"]?.arrayValue, ids.count == 1, let id = ids[0].intValue else {
                throw file.unsupported("post_processor.special_tokens.\(token)", "not a single token id")
            }
            return id
        }
        return ((cls, try templateID(cls)), (sep, try templateID(sep)))
    }

    // MARK: added tokens

    private static func readAddedTokens(
        _ file: JSONFile, vocabulary: Vocabulary, into configuration: inout BertTokenizer.Configuration
    ) throws(TokenizerError) {
        let roles = [
            configuration.unknownToken, configuration.classifierToken, configuration.separatorToken,
            configuration.paddingToken, configuration.maskToken ?? "",
        ]
        for (index, token) in (try file.array("added_tokens") ?? []).enumerated() {
            let path = "added_tokens[\(index)]"
            guard let content = token["content"]?.stringValue, let id = token["id"]?.intValue else {
                throw file.invalid(path, "expected an object with \"id\" and \"content\"")
            }
            guard let vocabularyID = vocabulary.id(for: content), Int(vocabularyID) == id else {
                throw file.unsupported(path, "\(quoted(content)) (id \(id)) is not in model.vocab with that id")
            }
            for flag in ["lstrip", "rstrip", "single_word"] where token[flag]?.boolValue == true {
                throw file.unsupported("\(path).\(flag)", "true")
            }
            // Added tokens are kept whole wherever they appear in the raw text. (`"normalized": true` would match
            // them in the normalized text instead; for BERT's bracketed special tokens this is the same except
            // for case variants such as "[mask]" in an uncased model.)
            if !roles.contains(where: { $0.unicodeScalars.elementsEqual(content.unicodeScalars) }) {
                configuration.additionalSpecialTokens.append(content)
            }
        }
    }
}
