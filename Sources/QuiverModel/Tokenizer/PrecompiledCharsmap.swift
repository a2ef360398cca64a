// MARK: - PrecompiledCharsmap

/// SentencePiece's compiled normalization rules (`precompiled_charsmap`, the `Precompiled` normalizer of
/// tokenizer.json, the normalizer spec of a `.model` file): a double-array trie over UTF-8 bytes whose leaves
/// point into a table of NUL-terminated replacement strings.
///
/// Layout: a little-endian UInt32 byte count of the trie, the trie's UInt32 units, then the replacements.
/// Lookups are bounds-checked, so a hostile map can only fail to match, never crash.
struct PrecompiledCharsmap: Sendable {
    private let units: [UInt32]
    private let replacements: [UInt8]
    /// The rule of each ASCII byte (nil: kept as is), looked up once: most text is ASCII.
    private var asciiRules: [ArraySlice<UInt8>?] = []

    /// Why the bytes are not a charsmap.
    enum Failure: Error { case truncated, emptyTrie, replacementsNotUTF8 }

    init(bytes: [UInt8]) throws(Failure) {
        guard bytes.count >= 4 else { throw .truncated }
        let trieSize = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
        let unitCount = trieSize / 4
        guard unitCount <= (bytes.count - 4) / 4 else { throw .truncated }
        guard unitCount > 0 else { throw .emptyTrie }
        var units = [UInt32](repeating: 0, count: unitCount)
        for index in 0..<unitCount {
            let offset = 4 + 4 * index
            units[index] =
                UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16
                | UInt32(bytes[offset + 3]) << 24
        }
        let replacements = Array(bytes[(4 + 4 * unitCount)...])
        guard String(validating: replacements, as: UTF8.self) != nil else { throw .replacementsNotUTF8 }
        self.units = units
        self.replacements = replacements
        self.asciiRules = (0..<128).map { byte in replacement(forPrefixOf: [UInt8(byte)]) }
    }

    /// The replacement of the shortest rule that is a prefix of `key` — SentencePiece's Darts
    /// `commonPrefixSearch`, first result, as `spm_precompiled` uses it — or nil. A NUL byte ends the key.
    func replacement(forPrefixOf key: some Collection<UInt8>) -> ArraySlice<UInt8>? {
        var position = 0
        guard let root = unit(at: position) else { return nil }
        position ^= Self.offset(root)
        for byte in key {
            guard byte != 0 else { return nil }
            position ^= Int(byte)
            guard let current = unit(at: position), current & (1 << 31 | 0xFF) == UInt32(byte) else { return nil }
            position ^= Self.offset(current)
            if (current >> 8) & 1 == 1 {
                guard let leaf = unit(at: position) else { return nil }
                let start = Int(leaf & (1 << 31 - 1))
                guard start <= replacements.count else { return nil }
                let end = replacements[start...].firstIndex(of: 0) ?? replacements.count
                let slice = replacements[start..<end]
                // A start inside a multi-byte character would not be a string (tokenizers would panic).
                guard String(validating: slice, as: UTF8.self) != nil else { return nil }
                return slice
            }
        }
        return nil
    }

    @inline(__always)
    private func unit(at position: Int) -> UInt32? {
        position >= 0 && position < units.count ? units[position] : nil
    }

    @inline(__always)
    private static func offset(_ unit: UInt32) -> Int {
        Int(unit >> 10) << Int((unit & (1 << 9)) >> 6)
    }

    /// `text` normalized as tokenizers' `Precompiled` normalizer does: grapheme cluster by grapheme cluster,
    /// a cluster shorter than 6 bytes replaced whole when a rule matches a prefix of it; otherwise each scalar
    /// replaced by its own rule, or kept.
    func normalize(_ text: String) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count)
        let utf8 = text.utf8
        var index = text.startIndex
        while index < text.endIndex {
            // An ASCII byte followed by another ASCII byte (but not CR LF) or the end is a cluster of its own:
            // no grapheme breaking needed.
            let byte = utf8[index]
            let next = utf8.index(after: index)
            if byte < 0x80, next == utf8.endIndex || (utf8[next] < 0x80 && !(byte == 0x0D && utf8[next] == 0x0A)) {
                if let replacement = asciiRules[Int(byte)] {
                    output.append(contentsOf: replacement)
                } else {
                    output.append(byte)
                }
                index = next
                continue
            }
            let character = text[index]
            index = text.index(after: index)
            let bytes = character.utf8
            if bytes.count < 6, let replacement = replacement(forPrefixOf: bytes) {
                output.append(contentsOf: replacement)
                continue
            }
            for scalar in character.unicodeScalars {
                let scalarBytes = UTF8.encode(scalar)!
                if let replacement = replacement(forPrefixOf: scalarBytes) {
                    output.append(contentsOf: replacement)
                } else {
                    output.append(contentsOf: scalarBytes)
                }
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
