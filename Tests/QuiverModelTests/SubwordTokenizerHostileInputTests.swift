import Foundation
import Testing

@testable import QuiverModel

/// Malformed or hostile tokenizer files are refused with a one-line `TokenizerError` naming the file and the
/// field — never a crash.
@Suite struct SubwordTokenizerHostileInputTests {
    /// A small valid byte-level BPE tokenizer.json, as a JSON object to edit.
    static func bpeJSON() -> [String: Any] {
        [
            "model": [
                "type": "BPE", "unk_token": NSNull(), "dropout": NSNull(),
                "vocab": ["a": 0, "b": 1, "ab": 2, "<s>": 3, "</s>": 4, "Ġ": 5],
                "merges": ["a b"],
            ] as [String: Any],
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "use_regex": true],
            "post_processor": ["type": "RobertaProcessing", "cls": ["<s>", 3], "sep": ["</s>", 4]],
            "added_tokens": [
                ["id": 3, "content": "<s>", "special": true], ["id": 4, "content": "</s>", "special": true],
            ],
        ]
    }

    static func unigramJSON() -> [String: Any] {
        [
            "model": [
                "type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0], ["▁a", -1.0], ["a", -2.0], ["b", -3.0]],
            ] as [String: Any],
            "pre_tokenizer": ["type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true],
        ]
    }

    static func load(_ object: [String: Any]) throws(TokenizerError) -> any TextTokenizer {
        let data = try! JSONSerialization.data(withJSONObject: object)
        return try Tokenizers.load(files: ["tokenizer.json": [UInt8](data)], source: "hostile")
    }

    static func error(_ object: [String: Any]) -> TokenizerError? {
        do {
            _ = try load(object)
            return nil
        } catch {
            return error
        }
    }

    static func editing(_ object: [String: Any], _ path: [String], _ value: Any) -> [String: Any] {
        var object = object
        if path.count == 1 {
            object[path[0]] = value
        } else {
            object[path[0]] = editing(object[path[0]] as! [String: Any], Array(path.dropFirst()), value)
        }
        return object
    }

    @Test func validFilesLoad() throws {
        let bpe = try Self.load(Self.bpeJSON())
        #expect(bpe.encode("ab", pair: nil, maxLength: nil).ids == [3, 2, 4])
        let unigram = try Self.load(Self.unigramJSON())
        #expect(unigram.tokenIDs("ab") == [1, 3])
    }

    @Test func mergesNamingUnknownTokensAreRefused() {
        let error = Self.error(Self.editing(Self.bpeJSON(), ["model", "merges"], ["a c"]))
        guard case .invalidJSON(let source, let field, let reason) = error else {
            Issue.record("got \(String(describing: error))")
            return
        }
        #expect(source == "hostile/tokenizer.json" && field == "model.merges" && reason.contains("\"c\""))
        let merged = Self.error(Self.editing(Self.bpeJSON(), ["model", "merges"], [["b", "a"]]))
        #expect(merged?.description.contains("makes a token that is not in the vocabulary") == true)
        let malformed = Self.error(Self.editing(Self.bpeJSON(), ["model", "merges"], ["a b c"]))
        #expect(malformed?.description.contains("model.merges[0]") == true)
        #expect(Self.error(Self.editing(Self.bpeJSON(), ["model", "merges"], [["a"]])) != nil)
        #expect(Self.error(Self.editing(Self.bpeJSON(), ["model", "merges"], [42])) != nil)
    }

    @Test func hostileNumbersAreRefused() {
        for id in [-1, 6, 1 << 40] {
            let vocab: [String: Any] = ["a": 0, "b": 1, "ab": 2, "<s>": 3, "</s>": id, "Ġ": 5]
            #expect(Self.error(Self.editing(Self.bpeJSON(), ["model", "vocab"], vocab)) != nil, "id \(id)")
        }
        let post: [String: Any] = ["type": "RobertaProcessing", "cls": ["<s>", -3], "sep": ["</s>", 4]]
        #expect(Self.error(Self.editing(Self.bpeJSON(), ["post_processor"], post)) != nil)
        let mismatched: [String: Any] = ["type": "RobertaProcessing", "cls": ["<s>", 1], "sep": ["</s>", 4]]
        #expect(Self.error(Self.editing(Self.bpeJSON(), ["post_processor"], mismatched)) != nil)
        let added: [[String: Any]] = [["id": -5, "content": "<x>"]]
        #expect(Self.error(Self.editing(Self.bpeJSON(), ["added_tokens"], added)) != nil)
        #expect(Self.error(Self.editing(Self.unigramJSON(), ["model", "unk_id"], 99)) != nil)
        #expect(Self.error(Self.editing(Self.unigramJSON(), ["model", "unk_id"], -1)) != nil)
        #expect(Self.error(Self.editing(Self.unigramJSON(), ["model", "unk_id"], 1e300)) != nil)
        #expect(Self.error(Self.editing(Self.unigramJSON(), ["model", "vocab"], [["<unk>", "x"]])) != nil)
        #expect(Self.error(Self.editing(Self.unigramJSON(), ["model", "vocab"], [])) != nil)
        #expect(Self.error(Self.editing(Self.bpeJSON(), ["model", "dropout"], 0.1)) != nil)
    }

    @Test func badCharsmapsAreRefused() {
        func withCharsmap(_ base64: String) -> [String: Any] {
            Self.editing(Self.unigramJSON(), ["normalizer"], ["type": "Precompiled", "precompiled_charsmap": base64])
        }
        let notBase64 = Self.error(withCharsmap("!!!not base64!!!"))
        #expect(notBase64?.description.contains("normalizer.precompiled_charsmap") == true)
        // A trie size larger than the data.
        #expect(Self.error(withCharsmap(Data([0xFF, 0xFF, 0, 0, 1, 2, 3, 4]).base64EncodedString())) != nil)
        #expect(Self.error(withCharsmap(Data([1, 2]).base64EncodedString())) != nil)
        // A trie whose offsets point anywhere: loads, and never matches out of bounds.
        var bytes: [UInt8] = [16, 0, 0, 0]
        for unit: UInt32 in [0xFFFF_FFFF, 0x7FFF_FF61, 0x1234_5678, 0x0000_0100] {
            bytes += withUnsafeBytes(of: unit.littleEndian, Array.init)
        }
        bytes += Array("x\0".utf8)
        let tokenizer = try? Self.load(withCharsmap(Data(bytes).base64EncodedString()))
        #expect(tokenizer != nil)
        for text in ["a", "ab a", "\u{0}", "ÿ€😀", String(repeating: "ab", count: 50)] {
            _ = tokenizer?.tokenIDs(text)
        }
    }

    @Test func badRegexesAndUnknownTypesAreRefused() {
        let regex: [String: Any] = ["type": "Replace", "pattern": ["Regex": "(unclosed"], "content": "x"]
        #expect(Self.error(Self.editing(Self.bpeJSON(), ["normalizer"], regex)) != nil)
        let unknown: [String: Any] = ["type": "Whatever"]
        for field in ["normalizer", "pre_tokenizer", "post_processor"] {
            guard case .unsupported(_, let path, _) = Self.error(Self.editing(Self.bpeJSON(), [field], unknown)) else {
                Issue.record("\(field) accepted")
                continue
            }
            #expect(path == field + ".type")
        }
        #expect(Self.error(Self.editing(Self.bpeJSON(), ["model", "type"], "WordLevel")) != nil)
    }

    @Test func badSplitPreTokenizersAreRefused() {
        func split(_ fields: [String: Any]) -> TokenizerError? {
            var node: [String: Any] = ["type": "Split", "pattern": ["Regex": "a"], "behavior": "Isolated"]
            node.merge(fields) { $1 }
            let sequence: [String: Any] = [
                "type": "Sequence", "pretokenizers": [node, ["type": "ByteLevel", "use_regex": false]],
            ]
            return Self.error(Self.editing(Self.bpeJSON(), ["pre_tokenizer"], sequence))
        }
        #expect(split([:]) == nil)
        #expect(split(["pattern": ["String": "ab"], "invert": true]) == nil)
        guard case .unsupported(_, let field, _) = split(["behavior": "Sideways"]) else {
            Issue.record("unknown behavior accepted")
            return
        }
        #expect(field == "pre_tokenizer.pretokenizers[0].behavior")
        #expect(split(["pattern": ["String": ""]]) != nil)
        #expect(split(["pattern": ["Regex": "(unclosed"]]) != nil)
        #expect(split(["pattern": "a"]) != nil)
        #expect(split(["behavior": NSNull()]) != nil)
        #expect(split(["invert": "yes"]) != nil)
        let punctuation: [String: Any] = ["type": "Punctuation", "behavior": 3]
        #expect(Self.error(Self.editing(Self.bpeJSON(), ["pre_tokenizer"], punctuation)) != nil)
    }

    /// Every Split behaviour on "a-b--c" split at "-", as tokenizers documents it.
    @Test func splitBehavioursCutAsTokenizersDoes() {
        let text: [UInt32] = "a-b--c".unicodeScalars.map(\.value)
        func pieces(_ behavior: SplitBehavior, invert: Bool = false) -> [String] {
            var words = WordList()
            text.withUnsafeBufferPointer {
                SplitRule(pattern: .literal([0x2D]), behavior: behavior, invert: invert).split($0, into: &words)
            }
            var result: [String] = []
            words.forEachWord { word in result.append(String(String.UnicodeScalarView(word.map { Unicode.Scalar($0)! }))) }
            return result
        }
        #expect(pieces(.removed) == ["a", "b", "c"])
        #expect(pieces(.isolated) == ["a", "-", "b", "-", "-", "c"])
        #expect(pieces(.mergedWithPrevious) == ["a-", "b-", "-", "c"])
        #expect(pieces(.mergedWithNext) == ["a", "-b", "-", "-c"])
        #expect(pieces(.contiguous) == ["a", "-", "b", "--", "c"])
        #expect(pieces(.removed, invert: true) == ["-", "-", "-"])
    }

    /// `X{n,}` regexes are matched without the regex engine, with the regex's results.
    @Test func characterRunsReplaceAsTheirRegex() throws {
        #expect(ReplacePattern.run(expression: "\\s{2,}") == nil)
        #expect(ReplacePattern.run(expression: " {2,5}") == nil)
        #expect(ReplacePattern.run(expression: " {0,}") == nil)
        #expect(ReplacePattern.run(expression: ".{2,}") == nil)
        var generator = SeededGenerator(seed: 0xC0FFEE)
        for expression in [" {2,}", " {1,}", "a{3,}", "é{2,}"] {
            let run = try #require(ReplacePattern.run(expression: expression))
            let regex = ReplacePattern.regex(try Regex(expression).matchingSemantics(.unicodeScalar))
            for _ in 0..<200 {
                let scalars = (0..<Int.random(in: 0...12, using: &generator)).map { _ in
                    ["a", " ", "é", "e\u{301}", "▁", "\r\n"].randomElement(using: &generator)!
                }
                let text = scalars.joined()
                #expect(run.replaceAll(in: text, with: "▁") == regex.replaceAll(in: text, with: "▁"), "\(quoted(text))")
                #expect(run.leadingMatchLength(in: text) == regex.leadingMatchLength(in: text), "\(quoted(text))")
            }
        }
    }

    @Test func badLegacyFilesAreRefused() {
        let vocab = Array(#"{"a": 0, "b": 1, "ab": 2, "<s>": 3, "</s>": 4, "<pad>": 5, "<unk>": 6, "<mask>": 7}"#.utf8)
        func load(_ merges: String) -> TokenizerError? {
            do {
                _ = try Tokenizers.load(
                    files: ["vocab.json": vocab, "merges.txt": Array(merges.utf8)], source: "legacy")
                return nil
            } catch { return error }
        }
        #expect(load("#version: 0.2\na b\n") == nil)
        #expect(load("#version: 0.2\na z\n")?.description.hasPrefix("legacy/merges.txt") == true)
        #expect(load("a b c\n") == .invalidFile(source: "legacy/merges.txt", reason: "line 1 is not \"left right\""))
        for bytes: [UInt8] in [
            [0x0A], [0x0A, 0xFF], [0x0A, 0x80, 0x80], [0xFF], [0x08], [0x0A, 0x05, 0x0A, 0x03, 0x0A],
        ] {
            let error: TokenizerError?
            do {
                _ = try Tokenizers.load(files: ["sentencepiece.bpe.model": bytes], source: "spm")
                error = nil
            } catch let caught { error = caught }
            #expect(error != nil, "\(bytes)")
        }
        #expect((try? Tokenizers.load(files: [:], source: "empty")) == nil)
    }

    /// Random texts: no crash, ids in range, the same ids twice.
    @Test(arguments: [
        "bpe", "bpe-extras", "bpe-metaspace", "unigram", "unigram-bytefallback", "bpe-llama3", "bpe-qwen2",
        "bpe-split-a", "bpe-split-b",
    ])
    func randomTextsEncodeDeterministically(suiteName: String) throws {
        let tokenizer = try SubwordFixtures.tokenizer(suiteName)
        let vocabularySize = Int32(try SubwordFixtures.suite(suiteName).vocabSize)
        var generator = SeededGenerator(seed: 0x5EED)
        let alphabet: [Unicode.Scalar] =
            Array("aAzZ09 \t\n'<>/sé中😀‍🏽▁ﬁ".unicodeScalars) + ["\u{301}", "\u{0}", "\u{FFFD}"]
        for _ in 0..<300 {
            var text = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...40, using: &generator) {
                if Int.random(in: 0..<4, using: &generator) == 0 {
                    text.append(Unicode.Scalar(UInt32.random(in: 0...0x2FFFF, using: &generator)) ?? "x")
                } else {
                    text.append(alphabet.randomElement(using: &generator)!)
                }
            }
            let string = String(text)
            let ids = tokenizer.tokenIDs(string)
            #expect(ids.allSatisfy { $0 >= 0 && $0 < vocabularySize }, "\(quoted(string))")
            #expect(tokenizer.tokenIDs(string) == ids)
            let encoding = tokenizer.encode(string, pair: string, maxLength: 16)
            #expect(encoding.count <= 16)
        }
    }
}
