// MARK: - TokenizerError

/// Why a tokenizer could not be loaded. Every case names the file (or `"<memory>"`) and what is wrong with it,
/// so that `description` is a complete one-line message for the user.
public enum TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No file at `path`.
    case fileNotFound(path: String)
    /// A folder holds no tokenizer files: neither `tokenizer.json` nor `vocab.txt` (nor, for `Tokenizers.load`,
    /// `vocab.json` + `merges.txt` or `sentencepiece.bpe.model`).
    case noTokenizerFiles(folder: String)
    /// The file exists but could not be read or is not valid UTF-8.
    case unreadableFile(path: String, reason: String)
    /// The vocabulary has no tokens.
    case emptyVocabulary(source: String)
    /// The same token appears twice (`firstID` and `duplicateID`; in `vocab.txt` a token's id is its line - 1).
    case duplicateToken(source: String, token: String, firstID: Int, duplicateID: Int)
    /// A special token the tokenizer needs (`[UNK]`, `[CLS]`, `[SEP]`, `[PAD]` or the configured ones) is not in
    /// the vocabulary. `role` says which one: `unknown`, `classifier`, `separator`, `padding` or
    /// `additional special`.
    case missingSpecialToken(source: String, role: String, token: String)
    /// Malformed JSON, or a field with the wrong type or an invalid value.
    case invalidJSON(source: String, field: String, reason: String)
    /// Valid JSON describing a tokenizer feature Quiver does not implement (e.g. a non-WordPiece model).
    case unsupported(source: String, field: String, value: String)
    /// A `BertTokenizer.Configuration` field with an impossible value.
    case invalidConfiguration(field: String, reason: String)
    /// A file that is not JSON (`merges.txt`, `sentencepiece.bpe.model`) is malformed.
    case invalidFile(source: String, reason: String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "tokenizer file not found: \(path)"
        case .noTokenizerFiles(let folder):
            return "no tokenizer.json or vocab.txt in \(folder)"
        case .unreadableFile(let path, let reason):
            return "cannot read \(path): \(reason)"
        case .emptyVocabulary(let source):
            return "\(source): the vocabulary is empty"
        case .duplicateToken(let source, let token, let firstID, let duplicateID):
            return "\(source): token \(quoted(token)) appears twice (ids \(firstID) and \(duplicateID))"
        case .missingSpecialToken(let source, let role, let token):
            return "\(source): the \(role) token \(quoted(token)) is not in the vocabulary"
        case .invalidJSON(let source, let field, let reason):
            return "\(source): invalid \(field): \(reason)"
        case .unsupported(let source, let field, let value):
            return "\(source): unsupported \(field): \(value)"
        case .invalidConfiguration(let field, let reason):
            return "invalid tokenizer configuration \(field): \(reason)"
        case .invalidFile(let source, let reason):
            return "\(source): \(reason)"
        }
    }
}

/// A token shown with escapes for anything invisible, so messages stay on one line.
func quoted(_ token: String) -> String {
    "\"" + token.unicodeScalars.map { $0.escaped(asASCII: false) }.joined() + "\""
}
