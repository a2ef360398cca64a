// MARK: - Byte-level alphabet

/// GPT-2's reversible map from the 256 byte values to printable Unicode scalars, used by byte-level BPE
/// vocabularies: printable Latin-1 bytes (`!`…`~`, `¡`…`¬`, `®`…`ÿ`) stand for themselves, the others
/// (controls, space, …) are shifted to U+0100 onwards in byte order — so a space is `Ġ` (U+0120).
enum ByteLevelAlphabet {
    /// The scalar value standing for each byte.
    static let scalarOfByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()
}

// MARK: - GPT-2 pre-tokenization

/// Splits text as GPT-2's pattern does (the ByteLevel pre-tokenizer's regex, Oniguruma semantics):
/// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
///
/// Hand-written over Unicode scalars: every scalar belongs to exactly one piece, so the pieces are found by
/// one left-to-right scan.
enum GPT2Split {
    /// Calls `body` with the scalar range of every piece of `scalars`, in order.
    static func forEachPiece(_ scalars: UnsafeBufferPointer<UInt32>, _ body: (Range<Int>) -> Void) {
        let count = scalars.count
        var start = 0
        while start < count {
            let end = pieceEnd(scalars, from: start)
            body(start..<end)
            start = end
        }
    }

    /// The end of the piece that starts at `start`.
    @inline(__always)
    static func pieceEnd(_ scalars: UnsafeBufferPointer<UInt32>, from start: Int) -> Int {
        let count = scalars.count
        let first = scalars[start]
        // 's 't 're 've 'm 'll 'd
        if first == 0x27, start + 1 < count {
            let second = scalars[start + 1]
            if second == 0x73 || second == 0x74 || second == 0x6D || second == 0x64 { return start + 2 }
            if start + 2 < count {
                let third = scalars[start + 2]
                if (second == 0x72 && third == 0x65) || (second == 0x76 && third == 0x65)
                    || (second == 0x6C && third == 0x6C)
                {
                    return start + 3
                }
            }
        }
        // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional space, then a run of one class.
        var runStart = start
        var runClass = CharacterClass(first)
        if first == 0x20, start + 1 < count {
            let next = CharacterClass(scalars[start + 1])
            if next != .space {
                runStart = start + 1
                runClass = next
            }
        }
        if runClass != .space {
            var end = runStart + 1
            while end < count, CharacterClass(scalars[end]) == runClass { end += 1 }
            return end
        }
        // `\s+(?!\S)|\s+`: a run of whitespace, leaving its last scalar to the next piece when a non-space
        // follows (unless the run is that one scalar).
        var end = start + 1
        while end < count, CharacterClass(scalars[end]) == .space { end += 1 }
        if end < count, end - start >= 2 { return end - 1 }
        return end
    }

    /// The classes of the pattern: `\s` (White_Space), `\p{L}`, `\p{N}`, and everything else.
    enum CharacterClass: UInt8 {
        case space, letter, number, other

        @inline(__always)
        init(_ value: UInt32) {
            if value < 0x80 {
                self = Self.ascii[Int(value)]
                return
            }
            guard let scalar = Unicode.Scalar(value) else {
                self = .other
                return
            }
            let properties = scalar.properties
            if properties.isWhitespace {
                self = .space
                return
            }
            switch properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
                self = .letter
            case .decimalNumber, .letterNumber, .otherNumber:
                self = .number
            default:
                self = .other
            }
        }

        private static let ascii: [CharacterClass] = (0..<128).map { value in
            switch value {
            case 0x09...0x0D, 0x20: .space
            case 0x41...0x5A, 0x61...0x7A: .letter
            case 0x30...0x39: .number
            default: .other
            }
        }
    }
}
