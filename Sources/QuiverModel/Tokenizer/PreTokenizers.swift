// MARK: - Words

/// The words of a text, as Unicode scalar values stored end to end (one buffer for all words).
struct WordList {
    var scalars: [UInt32] = []
    /// Where each word ends in `scalars`.
    var ends: [Int] = []

    mutating func finishWord() {
        if scalars.count > (ends.last ?? 0) { ends.append(scalars.count) }
    }

    mutating func removeAll() {
        scalars.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with each word.
    func forEachWord(_ body: (UnsafeBufferPointer<UInt32>) -> Void) {
        scalars.withUnsafeBufferPointer { buffer in
            var start = 0
            for end in ends {
                body(UnsafeBufferPointer(rebasing: buffer[start..<end]))
                start = end
            }
        }
    }
}

// MARK: - PreTokenizer

/// The pre-tokenizers of tokenizer.json that BPE and Unigram tokenizers use: how a normalized text is cut into
/// the words the model sees.
indirect enum PreTokenizer: Sendable {
    /// The whole text is one word.
    case none
    /// GPT-2's: an optional leading space added, the text split with GPT-2's pattern (`useRegex`), and every
    /// word's UTF-8 bytes mapped to `ByteLevelAlphabet` scalars.
    case byteLevel(addPrefixSpace: Bool, useRegex: Bool)
    /// SentencePiece's: spaces become `replacement` (`▁`), which is prepended per `prependScheme`, and the text is
    /// split before every `replacement` when `split`.
    case metaspace(replacement: UInt32, prependScheme: PrependScheme, split: Bool)
    /// `Split`, `Whitespace`, `WhitespaceSplit`, `Digits`, `Punctuation`: the text cut by a pattern.
    case split(SplitRule)
    /// Each pre-tokenizer cuts (and maps) every word of the one before.
    case sequence([PreTokenizer])

    enum PrependScheme: String, Sendable {
        case always, first, never
    }

    /// Appends the words of `text` to `words`. `isTextStart` says whether `text` starts the original input
    /// (Metaspace's `first` scheme prepends only there; in a sequence, only to the first word).
    func split(_ text: UnsafeBufferPointer<UInt32>, isTextStart: Bool, into words: inout WordList) {
        guard !text.isEmpty else { return }
        switch self {
        case .none:
            words.scalars.append(contentsOf: text)
            words.finishWord()

        case .byteLevel(let addPrefixSpace, let useRegex):
            if addPrefixSpace, text[0] != 0x20 {
                var spaced = [UInt32](repeating: 0x20, count: text.count + 1)
                spaced.withUnsafeMutableBufferPointer { _ = $0.dropFirst().initialize(from: text) }
                spaced.withUnsafeBufferPointer { Self.appendByteLevelWords($0, useRegex: useRegex, into: &words) }
            } else {
                Self.appendByteLevelWords(text, useRegex: useRegex, into: &words)
            }

        case .metaspace(let replacement, let prependScheme, let split):
            let prepend: Bool
            switch prependScheme {
            case .always: prepend = text[0] != replacement && text[0] != 0x20
            case .first: prepend = isTextStart && text[0] != replacement && text[0] != 0x20
            case .never: prepend = false
            }
            if prepend { words.scalars.append(replacement) }
            for value in text {
                let mapped = value == 0x20 ? replacement : value
                if split, mapped == replacement { words.finishWord() }
                words.scalars.append(mapped)
            }
            words.finishWord()

        case .split(let rule):
            rule.split(text, into: &words)

        case .sequence(let stages):
            var current = WordList()
            current.scalars.append(contentsOf: text)
            current.finishWord()
            var next = WordList()
            for stage in stages {
                next.removeAll()
                current.scalars.withUnsafeBufferPointer { buffer in
                    var start = 0
                    for (index, end) in current.ends.enumerated() {
                        stage.split(
                            UnsafeBufferPointer(rebasing: buffer[start..<end]), isTextStart: isTextStart && index == 0,
                            into: &next)
                        start = end
                    }
                }
                swap(&current, &next)
            }
            let offset = words.scalars.count
            words.scalars.append(contentsOf: current.scalars)
            words.ends.append(contentsOf: current.ends.lazy.map { $0 + offset })
        }
    }

    private static func appendByteLevelWords(
        _ text: UnsafeBufferPointer<UInt32>, useRegex: Bool, into words: inout WordList
    ) {
        let table = ByteLevelAlphabet.scalarOfByte
        func appendBytes(of range: Range<Int>) {
            for index in range {
                let value = text[index]
                if value < 0x80 {
                    words.scalars.append(table[Int(value)])
                } else {
                    for byte in UTF8.encode(Unicode.Scalar(value) ?? "\u{FFFD}")! {
                        words.scalars.append(table[Int(byte)])
                    }
                }
            }
            words.finishWord()
        }
        if useRegex {
            GPT2Split.forEachPiece(text) { appendBytes(of: $0) }
        } else {
            appendBytes(of: 0..<text.count)
        }
    }
}
