// MARK: - Configuration

extension BertTokenizer {
    /// How text is normalized and split, and which tokens are special. The defaults are bert-base-uncased's.
    ///
    /// The loaders fill it from `tokenizer.json` (normalizer, model, post-processor), `tokenizer_config.json`
    /// (`do_lower_case`, `strip_accents`, `tokenize_chinese_chars`, `model_max_length`, special tokens) and
    /// `config.json` (`max_position_embeddings`).
    public struct Configuration: Sendable, Equatable {
        /// Lower-case the text (`do_lower_case`).
        public var lowercase: Bool
        /// Remove accents (NFD, then drop nonspacing marks). `nil` follows `lowercase`, as in the original BERT.
        public var stripAccents: Bool?
        /// Remove NUL, U+FFFD and control characters, and turn every whitespace into a space.
        public var cleanText: Bool
        /// Put spaces around CJK ideographs so each becomes a word (`tokenize_chinese_chars`).
        public var tokenizeChineseChars: Bool
        /// Words longer than this many Unicode scalars become the unknown token.
        public var maxInputCharsPerWord: Int
        /// The prefix of word pieces that continue a word.
        public var continuingSubwordPrefix: String
        /// The longest encoding, special tokens included, when `encode` is given no `maxLength`.
        public var modelMaxLength: Int

        public var unknownToken: String
        public var classifierToken: String
        public var separatorToken: String
        public var paddingToken: String
        /// Kept whole when it appears in the text, if the vocabulary has it; otherwise ignored.
        public var maskToken: String?
        /// More tokens kept whole when they appear in the text (each must be in the vocabulary).
        public var additionalSpecialTokens: [String]

        /// Whether accents are removed, once `stripAccents == nil` is resolved.
        public var stripsAccents: Bool { stripAccents ?? lowercase }

        public init(
            lowercase: Bool = true,
            stripAccents: Bool? = nil,
            cleanText: Bool = true,
            tokenizeChineseChars: Bool = true,
            maxInputCharsPerWord: Int = 100,
            continuingSubwordPrefix: String = "##",
            modelMaxLength: Int = 512,
            unknownToken: String = "[UNK]",
            classifierToken: String = "[CLS]",
            separatorToken: String = "[SEP]",
            paddingToken: String = "[PAD]",
            maskToken: String? = "[MASK]",
            additionalSpecialTokens: [String] = []
        ) {
            self.lowercase = lowercase
            self.stripAccents = stripAccents
            self.cleanText = cleanText
            self.tokenizeChineseChars = tokenizeChineseChars
            self.maxInputCharsPerWord = maxInputCharsPerWord
            self.continuingSubwordPrefix = continuingSubwordPrefix
            self.modelMaxLength = modelMaxLength
            self.unknownToken = unknownToken
            self.classifierToken = classifierToken
            self.separatorToken = separatorToken
            self.paddingToken = paddingToken
            self.maskToken = maskToken
            self.additionalSpecialTokens = additionalSpecialTokens
        }

        /// The bert-base-uncased settings.
        public static let uncased = Configuration()
        /// The bert-base-cased settings.
        public static let cased = Configuration(lowercase: false)
    }
}
