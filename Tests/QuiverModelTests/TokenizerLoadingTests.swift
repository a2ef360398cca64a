import Foundation
import Testing

@testable import QuiverModel

/// Loading from vocab.txt, tokenizer.json and model folders, and the typed errors for bad files.
@Suite struct TokenizerLoadingTests {
    // MARK: - Helpers

    /// A fresh temporary folder holding `files` (name → contents).
    static func folder(_ files: [String: [UInt8]]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("quiver-tokenizer-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, bytes) in files { try Data(bytes).write(to: folder.appendingPathComponent(name)) }
        return folder
    }

    static func folder(_ files: [String: String]) throws -> URL {
        try folder(files.mapValues { Array($0.utf8) })
    }

    static let basicVocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n"

    /// A minimal BERT tokenizer.json; `replacing` swaps whole top-level sections for other JSON text.
    static func tokenizerJSON(replacing sections: [String: String] = [:]) -> String {
        var parts: [String: String] = [
            "version": #""1.0""#,
            "truncation": "null",
            "padding": "null",
            "added_tokens": """
            [{"id": 0, "content": "[PAD]", "single_word": false, "lstrip": false, "rstrip": false,
              "normalized": false, "special": true},
             {"id": 4, "content": "[MASK]", "single_word": false, "lstrip": false, "rstrip": false,
              "normalized": false, "special": true}]
            """,
            "normalizer": """
            {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
             "strip_accents": null, "lowercase": true}
            """,
            "pre_tokenizer": #"{"type": "BertPreTokenizer"}"#,
            "post_processor": """
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                        {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
             "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                      {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                      {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
             "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                                "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}}
            """,
            "decoder": ###"{"type": "WordPiece", "prefix": "##", "cleanup": true}"###,
            "model": """
            {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
             "max_input_chars_per_word": 100,
             "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "hello": 5, "world": 6,
                       "##s": 7}}
            """,
        ]
        parts.merge(sections) { $1 }
        return "{" + parts.sorted { $0.key < $1.key }.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ",\n")
            + "}"
    }

    static func loadTokenizerJSON(_ text: String) throws -> BertTokenizer {
        let folder = try folder(["tokenizer.json": text])
        return try BertTokenizer(tokenizerJSON: folder.appendingPathComponent("tokenizer.json"))
    }

    /// The error a load throws, or nil.
    static func error(_ load: () throws -> BertTokenizer) -> TokenizerError? {
        do {
            _ = try load()
            return nil
        } catch let error as TokenizerError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    // MARK: - vocab.txt

    @Test func vocabFileLoads() throws {
        let folder = try Self.folder(["vocab.txt": Self.basicVocab])
        let tokenizer = try BertTokenizer(vocabFile: folder.appendingPathComponent("vocab.txt"))
        #expect(tokenizer.vocabulary.count == 8)
        #expect(tokenizer.tokenize("Hellos WORLD") == ["hello", "##s", "world"])
    }

    @Test func vocabFileWithCRLFAndNoFinalNewline() throws {
        let folder = try Self.folder(["vocab.txt": "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nhello"])
        let tokenizer = try BertTokenizer(vocabFile: folder.appendingPathComponent("vocab.txt"))
        #expect(tokenizer.vocabulary.tokens == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "hello"])
    }

    @Test func emptyVocabFile() throws {
        let url = try Self.folder(["vocab.txt": ""]).appendingPathComponent("vocab.txt")
        #expect(Self.error { try BertTokenizer(vocabFile: url) } == .emptyVocabulary(source: url.path))
    }

    @Test func duplicateTokenNamesBothIDs() throws {
        let url = try Self.folder(["vocab.txt": Self.basicVocab + "world\n"]).appendingPathComponent("vocab.txt")
        let error = Self.error { try BertTokenizer(vocabFile: url) }
        #expect(error == .duplicateToken(source: url.path, token: "world", firstID: 6, duplicateID: 8))
        #expect(error?.description == "\(url.path): token \"world\" appears twice (ids 6 and 8)")
    }

    @Test(arguments: [("[UNK]", "unknown"), ("[CLS]", "classifier"), ("[SEP]", "separator"), ("[PAD]", "padding")])
    func missingSpecialToken(token: String, role: String) throws {
        let vocab = Self.basicVocab.replacingOccurrences(of: token + "\n", with: "")
        let url = try Self.folder(["vocab.txt": vocab]).appendingPathComponent("vocab.txt")
        #expect(
            Self.error { try BertTokenizer(vocabFile: url) }
                == .missingSpecialToken(source: url.path, role: role, token: token))
    }

    @Test func missingMaskTokenIsAllowed() throws {
        let url = try Self.folder(["vocab.txt": "[PAD]\n[UNK]\n[CLS]\n[SEP]\n"]).appendingPathComponent("vocab.txt")
        #expect(try BertTokenizer(vocabFile: url).tokenize("[MASK]") == ["[UNK]", "[UNK]", "[UNK]"])
    }

    @Test func invalidUTF8VocabFile() throws {
        let bytes = Array("[PAD]\n[UNK]\n".utf8) + [0xFF, 0xFE, 0x0A]
        let url = try Self.folder(["vocab.txt": bytes]).appendingPathComponent("vocab.txt")
        #expect(
            Self.error { try BertTokenizer(vocabFile: url) }
                == .unreadableFile(path: url.path, reason: "line 3 is not valid UTF-8"))
    }

    @Test func missingFileAndDirectory() throws {
        let folder = try Self.folder([String: String]())
        let missing = folder.appendingPathComponent("vocab.txt")
        #expect(Self.error { try BertTokenizer(vocabFile: missing) } == .fileNotFound(path: missing.path))
        #expect(
            Self.error { try BertTokenizer(vocabFile: folder) }
                == .unreadableFile(path: folder.path, reason: "is a directory"))
        #expect(Self.error { try BertTokenizer(folder: folder) } == .noTokenizerFiles(folder: folder.path))
    }

    // MARK: - tokenizer.json

    @Test func minimalTokenizerJSONLoads() throws {
        let tokenizer = try Self.loadTokenizerJSON(Self.tokenizerJSON())
        #expect(tokenizer.configuration.lowercase && tokenizer.configuration.stripAccents == nil)
        #expect(tokenizer.encode("Hellos", pair: "world [MASK]").ids == [2, 5, 7, 3, 6, 4, 3])
    }

    @Test func bertProcessingAndNullNormalizerLoad() throws {
        let text = Self.tokenizerJSON(replacing: [
            "post_processor": #"{"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]}"#,
            "normalizer": "null",
        ])
        let tokenizer = try Self.loadTokenizerJSON(text)
        #expect(!tokenizer.configuration.lowercase && !tokenizer.configuration.cleanText)
        #expect(tokenizer.tokenize("hello Hello") == ["hello", "[UNK]"])
    }

    @Test func tokenizerJSONWithTruncationAndPaddingSections() throws {
        let text = Self.tokenizerJSON(replacing: [
            "truncation": #"{"max_length": 128, "strategy": "LongestFirst", "stride": 0}"#,
            "padding":
                #"{"strategy": {"Fixed": 128}, "direction": "Right", "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"}"#,
        ])
        #expect(try Self.loadTokenizerJSON(text).configuration.modelMaxLength == 512)
    }

    /// Each entry: a section replaced, and the error it must produce (matched on its description).
    @Test(arguments: [
        ("model", #"{"type": "BPE", "vocab": {}, "merges": []}"#, "unsupported model.type: BPE"),
        ("model", #"{"vocab": {"[PAD]": 0}}"#, "invalid model.type: missing"),
        ("model", #"{"type": "WordPiece", "vocab": {"[PAD]": 0, "[UNK]": 2}}"#, "outside 0..<2"),
        ("model", #"{"type": "WordPiece", "vocab": {"[PAD]": 0, "[UNK]": 0}}"#, "id 0 is used by both"),
        ("model", #"{"type": "WordPiece", "vocab": {"[PAD]": "zero"}}"#, "not an integer"),
        ("model", #"{"type": "WordPiece", "vocab": {}}"#, "the vocabulary is empty"),
        (
            "model", #"{"type": "WordPiece", "vocab": [1, 2]}"#,
            "invalid model.vocab: expected an object, found an array"
        ),
        ("normalizer", #"{"type": "Sequence", "normalizers": []}"#, "unsupported normalizer.type: Sequence"),
        (
            "normalizer", #"{"type": "BertNormalizer", "lowercase": "yes"}"#,
            "invalid normalizer.lowercase: expected a boolean"
        ),
        ("pre_tokenizer", #"{"type": "Whitespace"}"#, "unsupported pre_tokenizer.type: Whitespace"),
        ("pre_tokenizer", "null", "unsupported pre_tokenizer: null"),
        ("post_processor", #"{"type": "RobertaProcessing"}"#, "unsupported post_processor.type: RobertaProcessing"),
        ("post_processor", #"{"type": "BertProcessing", "sep": ["[SEP]", 9], "cls": ["[CLS]", 2]}"#, "has id 9 but 3"),
        (
            "post_processor", #"{"type": "BertProcessing", "sep": ["</s>", 3], "cls": ["[CLS]", 2]}"#,
            "the separator token \"</s>\""
        ),
        (
            "post_processor", #"{"type": "TemplateProcessing", "single": [], "pair": []}"#,
            "unsupported post_processor template"
        ),
        ("added_tokens", #"[{"id": 5, "content": "<new>", "special": true}]"#, "is not in model.vocab with that id"),
        (
            "added_tokens", #"[{"id": 4, "content": "[MASK]", "lstrip": true}]"#,
            "unsupported added_tokens[0].lstrip: true"
        ),
        ("truncation", "7", "invalid truncation: expected an object, found a number"),
    ])
    func invalidTokenizerJSON(section: String, value: String, message: String) throws {
        let error = Self.error { try Self.loadTokenizerJSON(Self.tokenizerJSON(replacing: [section: value])) }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "no error")")
        #expect(error?.description.contains("tokenizer.json") == true)
    }

    @Test(arguments: ["", "{", "[]", #"{"model": 1,}"#, "{\"a\": \"\u{1}\"}", #"{"a": 01}"#])
    func malformedTokenizerJSON(text: String) throws {
        let error = Self.error { try Self.loadTokenizerJSON(text) }
        guard case .invalidJSON(_, let field, _) = error else {
            Issue.record("expected invalidJSON, got \(String(describing: error))")
            return
        }
        #expect(field == "JSON" || field == "document")
    }

    @Test func smallTokenizerJSONFixturesLoad() throws {
        let uncased = try BertTokenizer(
            tokenizerJSON: TokenizerFixtures.folder.appendingPathComponent("small-uncased/tokenizer.json"))
        #expect(uncased.configuration.lowercase && uncased.configuration.tokenizeChineseChars)
        let cased = try BertTokenizer(
            tokenizerJSON: TokenizerFixtures.folder.appendingPathComponent("small-cased/tokenizer.json"))
        #expect(!cased.configuration.lowercase && cased.configuration.stripAccents == true)
        #expect(!cased.configuration.tokenizeChineseChars)
        #expect(uncased.vocabulary.count == cased.vocabulary.count)
    }

    // MARK: - Folders

    @Test func miniLMFixtureFolderLoads() throws {
        let tokenizer = try BertTokenizer(folder: TokenizerFixtures.miniLMFolder)
        #expect(tokenizer.vocabulary.count == 30522)
        #expect(tokenizer.configuration.lowercase && tokenizer.configuration.stripAccents == nil)
        #expect(tokenizer.configuration.modelMaxLength == 512)
        #expect(tokenizer.tokenize("Ångström café") == ["ang", "##strom", "cafe"])
        #expect(tokenizer.encode("Hello, world!").ids == [101, 7592, 1010, 2088, 999, 102])
    }

    @Test func tokenizerConfigAndModelConfigApply() throws {
        let folder = try Self.folder([
            "vocab.txt": Self.basicVocab + "Hello\n",
            "tokenizer_config.json": """
            {"do_lower_case": false, "strip_accents": null, "model_max_length": 1000000000000000019884624838656,
             "cls_token": {"content": "[CLS]", "lstrip": false, "__type": "AddedToken"}, "tokenizer_class": "BertTokenizer"}
            """,
            "config.json": #"{"max_position_embeddings": 64, "model_type": "bert"}"#,
        ])
        let tokenizer = try BertTokenizer(folder: folder)
        #expect(!tokenizer.configuration.lowercase)
        #expect(tokenizer.configuration.modelMaxLength == 64)
        #expect(tokenizer.tokenize("Hello hello") == ["Hello", "hello"])
    }

    @Test func modelMaxLengthIsTheSmallerLimit() throws {
        let folder = try Self.folder([
            "vocab.txt": Self.basicVocab,
            "tokenizer_config.json": #"{"model_max_length": 128}"#,
            "config.json": #"{"max_position_embeddings": 512}"#,
        ])
        #expect(try BertTokenizer(folder: folder).configuration.modelMaxLength == 128)
    }

    @Test func tokenizerJSONIsPreferredAndTokenizerConfigOverridesIt() throws {
        let folder = try Self.folder([
            "vocab.txt": "[PAD]\n[UNK]\n[CLS]\n[SEP]\nsomething-else\n",
            "tokenizer.json": Self.tokenizerJSON(),
            "tokenizer_config.json": #"{"do_lower_case": false}"#,
        ])
        let tokenizer = try BertTokenizer(folder: folder)
        #expect(tokenizer.vocabulary.count == 8)
        #expect(!tokenizer.configuration.lowercase)
    }

    @Test(arguments: [
        (#"{"tokenizer_class": "RobertaTokenizer"}"#, "unsupported tokenizer_class: RobertaTokenizer"),
        (#"{"do_lower_case": 1}"#, "invalid do_lower_case: expected a boolean, found a number"),
        (#"{"never_split": ["[X]"]}"#, "unsupported never_split"),
        (#"{"model_max_length": 0}"#, "invalid model_max_length"),
        (#"{"additional_special_tokens": ["<new>"]}"#, "additional special token \"<new>\" is not in the vocabulary"),
    ])
    func invalidTokenizerConfig(json: String, message: String) throws {
        let folder = try Self.folder(["vocab.txt": Self.basicVocab, "tokenizer_config.json": json])
        let error = Self.error { try BertTokenizer(folder: folder) }
        #expect(error?.description.contains(message) == true, "\(error?.description ?? "no error")")
    }

    @Test func impossibleConfigurationValues() throws {
        let vocabulary = try Vocabulary(tokens: TokenizerBasicTests.tokens)
        var configuration = BertTokenizer.Configuration.uncased
        configuration.maxInputCharsPerWord = 0
        #expect(
            Self.error { try BertTokenizer(vocabulary: vocabulary, configuration: configuration) }
                == .invalidConfiguration(field: "maxInputCharsPerWord", reason: "0 is not positive"))
        configuration = .uncased
        configuration.modelMaxLength = -1
        #expect(
            Self.error { try BertTokenizer(vocabulary: vocabulary, configuration: configuration) }
                == .invalidConfiguration(field: "modelMaxLength", reason: "-1 is not positive"))
    }

    @Test func errorDescriptionsAreOneLine() throws {
        let url = try Self.folder(["vocab.txt": "[PAD]\na\nb\na\n"]).appendingPathComponent("vocab.txt")
        let error = try #require(Self.error { try BertTokenizer(vocabFile: url) })
        #expect(!error.description.contains("\n"))
        let control = TokenizerError.duplicateToken(source: "v", token: "a\nb\u{0}", firstID: 1, duplicateID: 2)
        #expect(control.description == #"v: token "a\nb\0" appears twice (ids 1 and 2)"#)
    }
}
