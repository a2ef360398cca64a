import Foundation
import QuiverTensor

// MARK: - Reading a BPE or Unigram tokenizer.json

/// An object inside a JSON file, with typed accessors whose errors name the file and the full field path
/// (`normalizer.normalizers[1].content`).
struct JSONNode {
    let value: JSONValue
    let path: String
    let source: String

    func child(_ key: String) -> JSONNode? {
        guard let next = value[key], !next.isNull else { return nil }
        return JSONNode(value: next, path: path.isEmpty ? key : path + "." + key, source: source)
    }

    func invalid(_ reason: String, _ key: String? = nil) -> TokenizerError {
        .invalidJSON(source: source, field: key.map { path.isEmpty ? $0 : path + "." + $0 } ?? path, reason: reason)
    }

    func unsupported(_ key: String, _ value: String) -> TokenizerError {
        .unsupported(source: source, field: path.isEmpty ? key : path + "." + key, value: value)
    }

    func string(_ key: String) throws(TokenizerError) -> String? {
        guard let node = child(key) else { return nil }
        guard let string = node.value.stringValue else {
            throw node.invalid("expected a string, found \(node.value.kindName)")
        }
        return string
    }

    func requiredString(_ key: String) throws(TokenizerError) -> String {
        guard let string = try string(key) else { throw invalid("missing", key) }
        return string
    }

    func bool(_ key: String) throws(TokenizerError) -> Bool? {
        guard let node = child(key) else { return nil }
        guard let bool = node.value.boolValue else {
            throw node.invalid("expected a boolean, found \(node.value.kindName)")
        }
        return bool
    }

    func int(_ key: String) throws(TokenizerError) -> Int? {
        guard let node = child(key) else { return nil }
        guard let int = node.value.intValue else {
            throw node.invalid("expected an integer, found \(node.value.kindName)")
        }
        return int
    }

    func array(_ key: String) throws(TokenizerError) -> [JSONNode]? {
        guard let node = child(key) else { return nil }
        guard let items = node.value.arrayValue else {
            throw node.invalid("expected an array, found \(node.value.kindName)")
        }
        return items.enumerated().map { JSONNode(value: $1, path: node.path + "[\($0)]", source: source) }
    }

    /// A token id that fits Int32 and is not negative.
    func tokenID(_ key: String) throws(TokenizerError) -> Int32? {
        guard let id = try int(key) else { return nil }
        guard id >= 0, id <= Int(Int32.max) else { throw invalid("\(id) is not a valid token id", key) }
        return Int32(id)
    }
}

extension SubwordTokenizer {
    /// A BPE or Unigram tokenizer from the bytes of a `tokenizer.json`; `source` names it in errors.
    /// `modelMaxLength` comes from elsewhere (tokenizer_config.json), 512 by default.
    ///
    /// - Throws: `TokenizerError.unsupported` for a model, normalizer, pre-tokenizer or post-processor Quiver does
    ///   not implement, `.invalidJSON` for malformed fields.
    public init(tokenizerJSON bytes: [UInt8], source: String, modelMaxLength: Int = 512) throws(TokenizerError) {
        let file = try JSONFile(bytes: bytes, source: source)
        try self.init(root: JSONNode(value: file.root, path: "", source: source), modelMaxLength: modelMaxLength)
    }

    init(root: JSONNode, modelMaxLength: Int) throws(TokenizerError) {
        guard let modelNode = root.child("model") else { throw root.invalid("missing", "model") }
        let type = try modelNode.requiredString("type")
        let model: Model
        switch type {
        case "BPE": model = .bpe(try Self.readBPE(modelNode))
        case "Unigram": model = .unigram(try Self.readUnigram(modelNode))
        default: throw modelNode.unsupported("type", type)
        }
        let normalizer = try root.child("normalizer").map { (node) throws(TokenizerError) in
            try Self.readNormalizer(node)
        }
        let preTokenizer =
            try root.child("pre_tokenizer").map { (node) throws(TokenizerError) in
                try Self.readPreTokenizer(node)
            } ?? PreTokenizer.none
        let addedTokens = try Self.readAddedTokens(root, vocabulary: model.vocabulary)
        func idOf(_ token: String) -> Int32? {
            addedTokens.last { $0.content.unicodeScalars.elementsEqual(token.unicodeScalars) }?.id
                ?? model.vocabulary.id(for: token)
        }
        let postProcessor =
            try root.child("post_processor").map { (node) throws(TokenizerError) in
                try Self.readPostProcessor(node, idOf: idOf)
            } ?? PostProcessor.none
        // The padding section's id, else `<pad>`, else the unknown token (Llama-style files have no pad token).
        let paddingID = try root.child("padding")?.tokenID("pad_id") ?? idOf("<pad>") ?? model.unknownID ?? 0
        guard modelMaxLength > 0 else {
            throw .invalidConfiguration(field: "modelMaxLength", reason: "\(modelMaxLength) is not positive")
        }
        self.init(
            model: model, normalizer: normalizer, preTokenizer: preTokenizer, postProcessor: postProcessor,
            addedTokens: addedTokens, paddingID: paddingID, modelMaxLength: modelMaxLength)
    }

    // MARK: model

    private static func readBPE(_ node: JSONNode) throws(TokenizerError) -> BPEModel {
        guard let vocab = node.child("vocab"), let members = vocab.value.objectValue else {
            throw node.invalid("missing or not an object", "vocab")
        }
        var entries: [(token: String, id: Int)] = []
        entries.reserveCapacity(members.count)
        for (token, value) in members {
            guard let id = value.intValue else {
                throw vocab.invalid("the id of \(quoted(token)) is \(value.kindName), not an integer")
            }
            entries.append((token, id))
        }
        guard !entries.isEmpty else { throw .emptyVocabulary(source: node.source) }
        let vocabulary = try Vocabulary(entries: entries, source: node.source, field: vocab.path)

        var merges: [(String, String)] = []
        for item in try node.array("merges") ?? [] {
            if let line = item.value.stringValue {
                let parts = line.split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2 else { throw item.invalid("expected \"left right\", found \(quoted(line))") }
                merges.append((String(parts[0]), String(parts[1])))
            } else if let pair = item.value.arrayValue, pair.count == 2, let left = pair[0].stringValue,
                let right = pair[1].stringValue
            {
                merges.append((left, right))
            } else {
                throw item.invalid("expected \"left right\" or [left, right]")
            }
        }
        if let dropout = node.child("dropout") {
            guard let value = dropout.value.doubleValue else { throw dropout.invalid("expected a number") }
            guard value == 0 else { throw node.unsupported("dropout", "\(value) (only none or 0 at inference)") }
        }
        func emptyAsNil(_ string: String?) -> String? { string?.isEmpty == false ? string : nil }
        return try BPEModel(
            vocabulary: vocabulary, merges: merges, unknownToken: try node.string("unk_token"),
            fuseUnknown: try node.bool("fuse_unk") ?? false, byteFallback: try node.bool("byte_fallback") ?? false,
            ignoreMerges: try node.bool("ignore_merges") ?? false,
            continuingSubwordPrefix: emptyAsNil(try node.string("continuing_subword_prefix")),
            endOfWordSuffix: emptyAsNil(try node.string("end_of_word_suffix")),
            invalid: { field, reason in node.invalid(reason, field) })
    }

    private static func readUnigram(_ node: JSONNode) throws(TokenizerError) -> UnigramModel {
        guard let items = try node.array("vocab") else { throw node.invalid("missing", "vocab") }
        guard !items.isEmpty else { throw .emptyVocabulary(source: node.source) }
        var pieces: [String] = []
        var scores: [Double] = []
        pieces.reserveCapacity(items.count)
        scores.reserveCapacity(items.count)
        for item in items {
            guard let pair = item.value.arrayValue, pair.count == 2, let piece = pair[0].stringValue,
                let score = pair[1].doubleValue
            else { throw item.invalid("expected [piece, score]") }
            pieces.append(piece)
            scores.append(score)
        }
        let vocabulary = try Vocabulary(tokens: pieces, source: node.source)
        guard let unknownID = try node.int("unk_id") else { throw node.unsupported("unk_id", "null") }
        return try UnigramModel(
            vocabulary: vocabulary, scores: scores, unknownID: unknownID,
            byteFallback: try node.bool("byte_fallback") ?? false,
            invalid: { field, reason in node.invalid(reason, field) })
    }

    // MARK: normalizer and pre-tokenizer

    static func readNormalizer(_ node: JSONNode) throws(TokenizerError) -> TextNormalizer {
        let type = try node.requiredString("type")
        switch type {
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Lowercase": return .lowercase
        case "Strip":
            return .strip(left: try node.bool("strip_left") ?? true, right: try node.bool("strip_right") ?? true)
        case "Prepend":
            return .prepend(try node.requiredString("prepend"))
        case "Replace":
            let content = try node.requiredString("content")
            guard let pattern = node.child("pattern") else { throw node.invalid("missing", "pattern") }
            if let string = try pattern.string("String") {
                return .replace(.string(Array(string.unicodeScalars)), content: content)
            }
            if let expression = try pattern.string("Regex") {
                if let run = ReplacePattern.run(expression: expression) { return .replace(run, content: content) }
                do {
                    let regex = try Regex(expression).matchingSemantics(.unicodeScalar)
                    return .replace(.regex(regex), content: content)
                } catch {
                    throw pattern.invalid("\(quoted(expression)) is not a supported regular expression", "Regex")
                }
            }
            throw pattern.invalid("expected {\"String\": …} or {\"Regex\": …}")
        case "Precompiled":
            let encoded = try node.string("precompiled_charsmap") ?? ""
            guard let bytes = Data(base64Encoded: encoded) else {
                throw node.invalid("not valid base64", "precompiled_charsmap")
            }
            // An empty map (identity normalization) changes nothing.
            if bytes.isEmpty { return .sequence([]) }
            do {
                return .precompiled(try PrecompiledCharsmap(bytes: [UInt8](bytes)))
            } catch {
                throw node.invalid("not a SentencePiece charsmap (\(error))", "precompiled_charsmap")
            }
        case "Sequence":
            guard let items = try node.array("normalizers") else { throw node.invalid("missing", "normalizers") }
            var normalizers: [TextNormalizer] = []
            for item in items { normalizers.append(try readNormalizer(item)) }
            return .sequence(normalizers)
        default:
            throw node.unsupported("type", type)
        }
    }

    static func readPreTokenizer(_ node: JSONNode) throws(TokenizerError) -> PreTokenizer {
        let type = try node.requiredString("type")
        switch type {
        case "ByteLevel":
            return .byteLevel(
                addPrefixSpace: try node.bool("add_prefix_space") ?? true, useRegex: try node.bool("use_regex") ?? true)
        case "Metaspace":
            let replacement = try node.string("replacement") ?? "▁"
            guard replacement.unicodeScalars.count == 1, let scalar = replacement.unicodeScalars.first else {
                throw node.invalid("\(quoted(replacement)) is not one character", "replacement")
            }
            var scheme = PreTokenizer.PrependScheme.always
            if let name = try node.string("prepend_scheme") {
                guard let parsed = PreTokenizer.PrependScheme(rawValue: name) else {
                    throw node.unsupported("prepend_scheme", name)
                }
                scheme = parsed
            }
            if try node.bool("add_prefix_space") == false { scheme = .never }
            return .metaspace(replacement: scalar.value, prependScheme: scheme, split: try node.bool("split") ?? true)
        case "Split":
            return .split(
                SplitRule(
                    pattern: try readSplitPattern(node), behavior: try readSplitBehavior(node, default: nil),
                    invert: try node.bool("invert") ?? false))
        case "Whitespace":
            return .split(.whitespace())
        case "WhitespaceSplit":
            return .split(SplitRule(pattern: .character(.whitespace), behavior: .removed, invert: false))
        case "Digits":
            let individual = try node.bool("individual_digits") ?? false
            return .split(
                SplitRule(pattern: .character(.numeric), behavior: individual ? .isolated : .contiguous, invert: false))
        case "Punctuation":
            return .split(
                SplitRule(
                    pattern: .character(.punctuation), behavior: try readSplitBehavior(node, default: .isolated),
                    invert: false))
        case "Sequence":
            guard let items = try node.array("pretokenizers") else { throw node.invalid("missing", "pretokenizers") }
            var stages: [PreTokenizer] = []
            for item in items { stages.append(try readPreTokenizer(item)) }
            return stages.count == 1 ? stages[0] : .sequence(stages)
        default:
            throw node.unsupported("type", type)
        }
    }

    /// A Split's `pattern`: `{"String": …}` (not empty) or `{"Regex": …}`.
    private static func readSplitPattern(_ node: JSONNode) throws(TokenizerError) -> SplitPattern {
        guard let pattern = node.child("pattern") else { throw node.invalid("missing", "pattern") }
        if let string = try pattern.string("String") {
            guard !string.isEmpty else { throw pattern.invalid("empty", "String") }
            return .literal(string.unicodeScalars.map(\.value))
        }
        if let expression = try pattern.string("Regex") {
            do {
                return .regex(try Regex(expression).matchingSemantics(.unicodeScalar))
            } catch {
                throw pattern.invalid("\(quoted(expression)) is not a supported regular expression", "Regex")
            }
        }
        throw pattern.invalid("expected {\"String\": …} or {\"Regex\": …}")
    }

    /// A split's `behavior` (required when `defaultBehavior` is nil).
    private static func readSplitBehavior(
        _ node: JSONNode, default defaultBehavior: SplitBehavior?
    ) throws(TokenizerError) -> SplitBehavior {
        guard let name = try node.string("behavior") else {
            guard let defaultBehavior else { throw node.invalid("missing", "behavior") }
            return defaultBehavior
        }
        guard let behavior = SplitBehavior(rawValue: name) else { throw node.unsupported("behavior", name) }
        return behavior
    }

    // MARK: post-processor

    static func readPostProcessor(
        _ node: JSONNode, idOf: (String) -> Int32?
    ) throws(TokenizerError) -> PostProcessor {
        func special(_ key: String) throws(TokenizerError) -> Int32 {
            guard let items = try node.array(key), items.count == 2, let token = items[0].value.stringValue,
                let id = items[1].value.intValue
            else { throw node.invalid("expected [token, id]", key) }
            guard id >= 0, id <= Int(Int32.max) else { throw node.invalid("\(id) is not a valid token id", key) }
            if let known = idOf(token), known != Int32(id) {
                throw node.invalid("\(quoted(token)) has id \(id) here but \(known) in the vocabulary", key)
            }
            return Int32(id)
        }
        let type = try node.requiredString("type")
        switch type {
        case "RobertaProcessing": return .roberta(classifier: try special("cls"), separator: try special("sep"))
        case "BertProcessing": return .bert(classifier: try special("cls"), separator: try special("sep"))
        case "ByteLevel": return .none  // only trims offsets
        case "TemplateProcessing":
            var specials: [String: [Int32]] = [:]
            if let table = node.child("special_tokens"), let members = table.value.objectValue {
                for (name, _) in members {
                    guard let entry = table.child(name), let ids = try entry.array("ids") else {
                        throw table.invalid("expected {\"ids\": […]}", name)
                    }
                    var list: [Int32] = []
                    for id in ids {
                        guard let value = id.value.intValue, value >= 0, value <= Int(Int32.max) else {
                            throw id.invalid("expected a token id")
                        }
                        list.append(Int32(value))
                    }
                    specials[name] = list
                }
            }
            func pieces(_ key: String) throws(TokenizerError) -> [PostProcessor.TemplatePiece] {
                guard let items = try node.array(key) else { throw node.invalid("missing", key) }
                var pieces: [PostProcessor.TemplatePiece] = []
                for item in items {
                    if let entry = item.child("SpecialToken") {
                        let name = try entry.requiredString("id")
                        guard let ids = specials[name] else {
                            throw entry.invalid("\(quoted(name)) is not in special_tokens", "id")
                        }
                        pieces.append(.special(ids, typeID: try typeID(entry)))
                    } else if let entry = item.child("Sequence") {
                        switch try entry.requiredString("id") {
                        case "A": pieces.append(.sequenceA(typeID: try typeID(entry)))
                        case "B": pieces.append(.sequenceB(typeID: try typeID(entry)))
                        case let other: throw entry.invalid("\(quoted(other)) is neither A nor B", "id")
                        }
                    } else {
                        throw item.invalid("expected SpecialToken or Sequence")
                    }
                }
                return pieces
            }
            func typeID(_ entry: JSONNode) throws(TokenizerError) -> Int32 {
                let value = try entry.int("type_id") ?? 0
                guard value >= 0, value <= Int(Int32.max) else {
                    throw entry.invalid("\(value) is not a type id", "type_id")
                }
                return Int32(value)
            }
            return .template(single: try pieces("single"), pair: try pieces("pair"))
        case "Sequence":
            guard let items = try node.array("processors") else { throw node.invalid("missing", "processors") }
            var chosen = PostProcessor.none
            for item in items {
                let processor = try readPostProcessor(item, idOf: idOf)
                guard processor != .none else { continue }
                guard chosen == .none else { throw node.unsupported("processors", "more than one that adds tokens") }
                chosen = processor
            }
            return chosen
        default:
            throw node.unsupported("type", type)
        }
    }

    // MARK: added tokens

    private static func readAddedTokens(_ root: JSONNode, vocabulary: Vocabulary) throws(TokenizerError) -> [AddedToken]
    {
        var tokens: [AddedToken] = []
        for item in try root.array("added_tokens") ?? [] {
            let content = try item.requiredString("content")
            guard let id = try item.tokenID("id") else { throw item.invalid("missing", "id") }
            let special = try item.bool("special") ?? false
            tokens.append(
                AddedToken(
                    content: content, id: vocabulary.id(for: content) ?? id,
                    singleWord: try item.bool("single_word") ?? false, leftStrip: try item.bool("lstrip") ?? false,
                    rightStrip: try item.bool("rstrip") ?? false, normalized: try item.bool("normalized") ?? !special,
                    special: special))
        }
        return tokens
    }
}
