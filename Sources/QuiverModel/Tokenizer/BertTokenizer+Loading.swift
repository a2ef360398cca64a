import Foundation

// MARK: - Loading

extension BertTokenizer {
    /// A tokenizer from a `vocab.txt` (one token per line) and explicit settings.
    ///
    /// - Throws: `TokenizerError` when the file is missing or unreadable, the vocabulary is empty or has a
    ///   duplicate, or a special token is missing.
    public init(vocabFile: URL, configuration: Configuration = .uncased) throws(TokenizerError) {
        try self.init(vocabulary: Vocabulary(vocabFile: vocabFile), configuration: configuration)
    }

    /// A tokenizer from a Hugging Face `tokenizer.json` alone (see `docs/tokenizer.md` for what is supported).
    /// `modelMaxLength` is 512 unless a `tokenizer_config.json` says otherwise, which only `init(folder:)` reads.
    public init(tokenizerJSON: URL) throws(TokenizerError) {
        let file = try TokenizerJSON(url: tokenizerJSON)
        try self.init(vocabulary: file.vocabulary, configuration: file.configuration)
    }

    /// A tokenizer from a Hugging Face model folder, as `transformers` loads it:
    /// - `tokenizer.json` when present, else `vocab.txt` (with bert-base-uncased defaults);
    /// - `tokenizer_config.json`, when present, overrides `do_lower_case`, `strip_accents`,
    ///   `tokenize_chinese_chars`, the special tokens and `model_max_length`;
    /// - `config.json`'s `max_position_embeddings`, when present, caps `modelMaxLength`.
    public init(folder: URL) throws(TokenizerError) {
        let fileManager = FileManager.default
        var files: [String: [UInt8]] = [:]
        let vocabularyName = ["tokenizer.json", "vocab.txt"].first {
            fileManager.fileExists(atPath: folder.appendingPathComponent($0).path)
        }
        for name in [vocabularyName, "tokenizer_config.json", "config.json"].compactMap({ $0 })
        where fileManager.fileExists(atPath: folder.appendingPathComponent(name).path) {
            files[name] = try readFile(folder.appendingPathComponent(name))
        }
        try self.init(files: files, source: folder.path)
    }

    /// Applies the settings of a `tokenizer_config.json`; returns its `model_max_length` when it is a real
    /// limit (transformers writes 1e30 for "none").
    static func apply(
        tokenizerConfig file: JSONFile, to configuration: inout Configuration
    ) throws(TokenizerError) -> Int? {
        if let tokenizerClass = try file.string("tokenizer_class"),
            !["BertTokenizer", "BertTokenizerFast", "DistilBertTokenizer", "DistilBertTokenizerFast"].contains(
                tokenizerClass)
        {
            throw file.unsupported("tokenizer_class", tokenizerClass)
        }
        if try file.bool("do_basic_tokenize") == false { throw file.unsupported("do_basic_tokenize", "false") }
        if let neverSplit = try file.array("never_split"), !neverSplit.isEmpty {
            throw file.unsupported("never_split", "a non-empty list")
        }
        if let lowercase = try file.bool("do_lower_case") { configuration.lowercase = lowercase }
        if file.root["strip_accents"] != nil { configuration.stripAccents = try file.bool("strip_accents") }
        if let chinese = try file.bool("tokenize_chinese_chars") { configuration.tokenizeChineseChars = chinese }
        if let token = try file.tokenContent("unk_token") { configuration.unknownToken = token }
        if let token = try file.tokenContent("cls_token") { configuration.classifierToken = token }
        if let token = try file.tokenContent("sep_token") { configuration.separatorToken = token }
        if let token = try file.tokenContent("pad_token") { configuration.paddingToken = token }
        if let token = try file.tokenContent("mask_token") { configuration.maskToken = token }
        for (index, value) in (try file.array("additional_special_tokens") ?? []).enumerated() {
            let token = try file.tokenContent(of: value, path: "additional_special_tokens[\(index)]")
            configuration.additionalSpecialTokens.append(token)
        }
        guard let maxLength = try file.number("model_max_length") else { return nil }
        guard maxLength >= 1 else { throw file.invalid("model_max_length", "\(maxLength) is not positive") }
        return maxLength < Double(Int32.max) ? Int(maxLength) : nil
    }
}
