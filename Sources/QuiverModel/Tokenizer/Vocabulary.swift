import Foundation

// MARK: - Vocabulary

/// A WordPiece vocabulary: the tokens by id, and an exact lookup from a token to its id.
///
/// Tokens are compared Unicode scalar by scalar, as Python and Rust compare strings: `"é"` (U+00E9) and
/// `"e\u{301}"` are two different tokens, although Swift `String` considers them equal.
///
/// ```swift
/// let vocabulary = try Vocabulary(vocabFile: folder.appending(path: "vocab.txt"))
/// vocabulary.id(for: "[CLS]")   // 101 for bert-base-uncased
/// ```
public struct Vocabulary: Sendable {
    /// The tokens, indexed by id.
    public let tokens: [String]
    /// Where the vocabulary came from (a file path or `"<memory>"`), for error messages.
    public let source: String
    /// Every token, for longest-prefix matching by WordPiece and special-token lookups.
    let trie: TokenTrie

    /// The number of tokens.
    public var count: Int { tokens.count }

    /// A vocabulary whose token `k` has id `k`.
    /// - Throws: `TokenizerError.emptyVocabulary` or `.duplicateToken`.
    public init(tokens: [String], source: String = "<memory>") throws(TokenizerError) {
        guard !tokens.isEmpty else { throw .emptyVocabulary(source: source) }
        guard tokens.count <= Int(Int32.max) else {
            throw .invalidJSON(source: source, field: "vocabulary", reason: "more than \(Int32.max) tokens")
        }
        let entries = tokens.enumerated().map {
            (scalars: $0.element.unicodeScalars.map(\.value), id: Int32($0.offset))
        }
        do {
            self.trie = try TokenTrie(tokens: entries)
        } catch {
            throw .duplicateToken(
                source: source, token: tokens[Int(error.firstID)], firstID: Int(error.firstID),
                duplicateID: Int(error.duplicateID))
        }
        self.tokens = tokens
        self.source = source
    }

    /// Reads a `vocab.txt`: one token per line, the line number minus one being its id (as BERT does: `\n`
    /// separated, a trailing `\r` removed, the empty string after a final newline not a token).
    public init(vocabFile: URL) throws(TokenizerError) {
        try self.init(vocabText: readFile(vocabFile), source: vocabFile.path)
    }

    /// Parses the bytes of a `vocab.txt` (see `init(vocabFile:)`); `source` names it in errors.
    public init(vocabText bytes: [UInt8], source: String) throws(TokenizerError) {
        var tokens: [String] = []
        var lineStart = 0
        var index = 0
        while lineStart < bytes.count {
            index = bytes[lineStart...].firstIndex(of: 0x0A) ?? bytes.count
            var lineEnd = index
            if lineEnd > lineStart, bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            guard let token = String(validating: bytes[lineStart..<lineEnd], as: UTF8.self) else {
                throw .unreadableFile(path: source, reason: "line \(tokens.count + 1) is not valid UTF-8")
            }
            tokens.append(token)
            lineStart = index + 1
        }
        try self.init(tokens: tokens, source: source)
    }

    /// A vocabulary from `(token, id)` pairs, as in tokenizer.json's `model.vocab`. The ids must be exactly
    /// `0 ..< entries.count`.
    init(entries: [(token: String, id: Int)], source: String, field: String) throws(TokenizerError) {
        var tokens = [String?](repeating: nil, count: entries.count)
        for (token, id) in entries {
            guard id >= 0, id < entries.count else {
                throw .invalidJSON(
                    source: source, field: field,
                    reason: "id \(id) of \(quoted(token)) is outside 0..<\(entries.count) (ids must be contiguous)")
            }
            if let first = tokens[id] {
                throw .invalidJSON(
                    source: source, field: field,
                    reason: "id \(id) is used by both \(quoted(first)) and \(quoted(token))")
            }
            tokens[id] = token
        }
        try self.init(tokens: tokens.map { $0! }, source: source)
    }

    // MARK: - Lookups

    /// The id of `token`, compared scalar by scalar; nil when it is not in the vocabulary.
    public func id(for token: String) -> Int32? {
        trie.id(of: token.unicodeScalars.lazy.map(\.value))
    }

    /// The token with id `id`, or nil when out of range.
    public func token(for id: Int32) -> String? {
        tokens.indices.contains(Int(id)) ? tokens[Int(id)] : nil
    }
}

// MARK: - File reading

/// The bytes of a file, with typed errors that name it.
func readFile(_ url: URL) throws(TokenizerError) -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
        throw .fileNotFound(path: url.path)
    }
    guard !isDirectory.boolValue else { throw .unreadableFile(path: url.path, reason: "is a directory") }
    do {
        return [UInt8](try Data(contentsOf: url))
    } catch {
        throw .unreadableFile(path: url.path, reason: error.localizedDescription)
    }
}
