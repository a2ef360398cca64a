// MARK: - Loading from files in memory

extension BertTokenizer {
    /// A tokenizer from the files of a Hugging Face model folder held in memory (a registry's blobs), by file
    /// name, read exactly as `init(folder:)` reads the folder:
    /// - `tokenizer.json` when present, else `vocab.txt` (with bert-base-uncased defaults);
    /// - `tokenizer_config.json`, when present, overrides `do_lower_case`, `strip_accents`,
    ///   `tokenize_chinese_chars`, the special tokens and `model_max_length`;
    /// - `config.json`'s `max_position_embeddings`, when present, caps `modelMaxLength`.
    ///
    /// Errors name each file as `source/name`.
    ///
    /// - Throws: `TokenizerError.noTokenizerFiles` when neither vocabulary file is given, and the errors of the
    ///   file parsers.
    public init(files: [String: [UInt8]], source: String) throws(TokenizerError) {
        func path(_ name: String) -> String { source + "/" + name }
        let vocabulary: Vocabulary
        var configuration: Configuration
        if let bytes = files["tokenizer.json"] {
            let file = try TokenizerJSON(file: JSONFile(bytes: bytes, source: path("tokenizer.json")))
            vocabulary = file.vocabulary
            configuration = file.configuration
        } else if let bytes = files["vocab.txt"] {
            vocabulary = try Vocabulary(vocabText: bytes, source: path("vocab.txt"))
            configuration = .uncased
        } else {
            throw .noTokenizerFiles(folder: source)
        }

        var maxLengths: [Int] = []
        if let bytes = files["tokenizer_config.json"] {
            let file = try JSONFile(bytes: bytes, source: path("tokenizer_config.json"))
            if let maxLength = try Self.apply(tokenizerConfig: file, to: &configuration) {
                maxLengths.append(maxLength)
            }
        }
        if let bytes = files["config.json"] {
            let file = try JSONFile(bytes: bytes, source: path("config.json"))
            if let positions = try file.int("max_position_embeddings") {
                guard positions > 0 else {
                    throw file.invalid("max_position_embeddings", "\(positions) is not positive")
                }
                maxLengths.append(positions)
            }
        }
        if let maxLength = maxLengths.min() { configuration.modelMaxLength = maxLength }
        try self.init(vocabulary: vocabulary, configuration: configuration)
    }
}
