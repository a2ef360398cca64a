// MARK: - SentencePieceModel

/// The parts of a SentencePiece `.model` file (a `ModelProto` protobuf) a Unigram tokenizer needs, read with a
/// small wire-format reader: the pieces with their scores and types, and the normalizer spec.
struct SentencePieceModel {
    struct Piece {
        var piece: String
        var score: Float
        /// 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
        var type: Int
    }

    var pieces: [Piece] = []
    var normalizerName = ""
    var precompiledCharsmap: [UInt8] = []
    var addDummyPrefix = true

    /// - Throws: `TokenizerError.invalidFile` naming `source` for malformed protobuf.
    init(bytes: [UInt8], source: String) throws(TokenizerError) {
        func invalid(_ reason: String) -> TokenizerError { .invalidFile(source: source, reason: reason) }
        var reader = ProtobufReader(bytes: bytes[...])
        while let field = try reader.nextField(invalid) {
            switch (field.number, field.value) {
            case (1, .bytes(let message)):  // SentencePiece
                var pieceReader = ProtobufReader(bytes: message)
                var piece = Piece(piece: "", score: 0, type: 1)
                while let pieceField = try pieceReader.nextField(invalid) {
                    switch (pieceField.number, pieceField.value) {
                    case (1, .bytes(let text)):
                        guard let string = String(validating: text, as: UTF8.self) else {
                            throw invalid("piece \(pieces.count) is not valid UTF-8")
                        }
                        piece.piece = string
                    case (2, .fixed32(let bits)): piece.score = Float(bitPattern: bits)
                    case (3, .varint(let value)):
                        guard value <= 6 else { throw invalid("piece \(pieces.count) has type \(value)") }
                        piece.type = Int(value)
                    default: break
                    }
                }
                pieces.append(piece)
            case (3, .bytes(let message)):  // NormalizerSpec
                var specReader = ProtobufReader(bytes: message)
                while let specField = try specReader.nextField(invalid) {
                    switch (specField.number, specField.value) {
                    case (1, .bytes(let text)): normalizerName = String(decoding: text, as: UTF8.self)
                    case (2, .bytes(let map)): precompiledCharsmap = Array(map)
                    case (3, .varint(let value)): addDummyPrefix = value != 0
                    default: break
                    }
                }
            default: break
            }
        }
        guard !pieces.isEmpty else { throw invalid("the model has no pieces") }
    }
}

// MARK: - Protobuf wire format

/// Reads the fields of one protobuf message, in order. Every length is checked against the bytes left.
struct ProtobufReader {
    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case fixed32(UInt32)
        case bytes(ArraySlice<UInt8>)
    }

    private let bytes: ArraySlice<UInt8>
    private var position: Int

    init(bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    /// The next field, or nil at the end of the message.
    mutating func nextField(
        _ invalid: (String) -> TokenizerError
    ) throws(TokenizerError) -> (number: UInt64, value: Value)? {
        guard position < bytes.endIndex else { return nil }
        let key = try varint(invalid)
        let number = key >> 3
        guard number > 0 else { throw invalid("field number 0 at byte \(position)") }
        switch key & 7 {
        case 0: return (number, .varint(try varint(invalid)))
        case 1:
            let raw = try take(8, invalid)
            return (number, .fixed64(raw.reversed().reduce(0) { $0 << 8 | UInt64($1) }))
        case 2:
            let length = try varint(invalid)
            guard length <= UInt64(bytes.endIndex - position) else {
                throw invalid("a field of \(length) bytes runs past the end of the data")
            }
            return (number, .bytes(try take(Int(length), invalid)))
        case 5:
            let raw = try take(4, invalid)
            return (number, .fixed32(raw.reversed().reduce(0) { $0 << 8 | UInt32($1) }))
        default:
            throw invalid("unsupported protobuf wire type \(key & 7) at byte \(position)")
        }
    }

    private mutating func varint(_ invalid: (String) -> TokenizerError) throws(TokenizerError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.endIndex else { throw invalid("a varint runs past the end of the data") }
            guard shift < 64 else { throw invalid("a varint is longer than 10 bytes") }
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    private mutating func take(_ count: Int, _ invalid: (String) -> TokenizerError) throws(TokenizerError)
        -> ArraySlice<UInt8>
    {
        guard count <= bytes.endIndex - position else { throw invalid("a field runs past the end of the data") }
        defer { position += count }
        return bytes[position..<position + count]
    }
}
