/// A problem with an encoder's configuration or with the input given to it, described in one line.
public enum EncoderError: Error, Equatable, Sendable, CustomStringConvertible {
    /// config.json's `hidden_act` names a function this encoder does not implement.
    case unsupportedActivation(String)
    /// A row is longer than the model's `max_position_embeddings`.
    case sequenceTooLong(length: Int, maxPositions: Int)
    /// A token id outside the word embedding table (a tokenizer that does not belong to the model).
    case tokenIDOutOfRange(item: Int, position: Int, id: Int, vocabSize: Int)
    /// A token type id outside the token-type embedding table (a pair for a model with `type_vocab_size` 1).
    case tokenTypeOutOfRange(item: Int, position: Int, typeID: Int, typeVocabSize: Int)
    /// The arrays of an input do not have batch × sequenceLength elements, or hidden states the model's width.
    case shapeMismatch(String)
    /// A range of layers that is not within the model's layers.
    case invalidLayerRange(Range<Int>, layerCount: Int)

    public var description: String {
        switch self {
        case .unsupportedActivation(let name):
            "hidden_act \"\(name)\" is not supported (supported: "
                + HiddenActivation.supportedNames.joined(separator: ", ") + ")"
        case .sequenceTooLong(let length, let maxPositions):
            "a sequence of \(length) tokens is longer than the model's \(maxPositions) positions"
        case .tokenIDOutOfRange(let item, let position, let id, let vocabSize):
            "token id \(id) (item \(item), position \(position)) is outside the model's \(vocabSize) word embeddings"
        case .tokenTypeOutOfRange(let item, let position, let typeID, let typeVocabSize):
            "token type id \(typeID) (item \(item), position \(position)) is outside the model's "
                + "\(typeVocabSize) token types"
        case .shapeMismatch(let message):
            message
        case .invalidLayerRange(let range, let layerCount):
            "layers \(range.lowerBound)..<\(range.upperBound) are not within the model's \(layerCount) layers"
        }
    }
}
