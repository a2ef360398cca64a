import ArgumentParser
import Foundation
import QuiverModel
import QuiverStore

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed", abstract: "Print sentence embeddings of texts computed by a base model.",
        discussion: """
            Texts come from the arguments or, when there are none, from standard input, one per line. They are
            batched by length and printed in the order given.
            """)

    @Argument(help: ArgumentHelp("Texts to embed (default: one per line from standard input).", valueName: "TEXT"))
    var texts: [String] = []
    @Option(help: ArgumentHelp("The base model (default: the registry's only one).", valueName: "NAME"))
    var base: String?
    @Option(
        help: ArgumentHelp(
            "How token vectors become one: cls (the first token) or mean (over the tokens).", valueName: "cls|mean"))
    var pooling: EmbeddingPooling = .mean
    @Option(help: ArgumentHelp("Longest encoding in tokens (default: the model's limit).", valueName: "N"))
    var maxLength: Int?
    @Flag(help: "Divide each vector by its Euclidean norm.") var normalize = false
    @Flag(help: "Print one JSON document: {\"embeddings\": [[...], ...]}.") var json = false
    @OptionGroup var registry: RegistryOptions

    func validate() throws {
        if let maxLength, maxLength < 2 {
            throw ValidationError("--max-length must be at least 2 (room for [CLS] and [SEP])")
        }
    }

    func run() throws {
        let texts = self.texts.isEmpty ? try TextInput.standardInputLines() : self.texts
        guard !texts.isEmpty else {
            throw QuiverError(.invalidInput, "no text to embed: pass TEXT arguments or lines on standard input")
        }
        let model = try BaseModel(registry: registry.open(), base: base)
        let embedder = try Embedder(model: model, pooling: pooling, normalize: normalize, maxLength: maxLength)
        let vectors = try embedder.embed(texts)
        if json {
            print(Self.jsonDocument(vectors))
        } else {
            for (index, (text, vector)) in zip(texts, vectors).enumerated() {
                print(Self.summary(index: index, text: text, vector: vector))
            }
        }
    }

    /// `{"embeddings": [[...], ...]}` on one line, each float in its shortest exact form.
    static func jsonDocument(_ vectors: [[Float]]) -> String {
        let rows = vectors.map { vector in "[" + vector.map { "\($0)" }.joined(separator: ",") + "]" }
        return "{\"embeddings\": [" + rows.joined(separator: ", ") + "]}"
    }

    /// `0  ‖v‖ 5.4321  [0.0123, -0.0456, 0.0789, 0.1011, …] (384)  "the text…"`.
    static func summary(index: Int, text: String, vector: [Float]) -> String {
        let norm = vector.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot()
        let head = vector.prefix(4).map { String(format: "%.4f", $0) }.joined(separator: ", ")
        let shown = text.count > 48 ? String(text.prefix(47)) + "…" : text
        let quoted = shown.debugDescription
        return "\(index)  norm \(String(format: "%.4f", norm))  [\(head), …] (\(vector.count))  \(quoted)"
    }
}

extension EmbeddingPooling: ExpressibleByArgument {}
