import Foundation

// MARK: - TextNormalizer

/// The normalizers of tokenizer.json that BPE and Unigram tokenizers use, with the behaviour of Hugging Face
/// `tokenizers` (BERT's normalizer is `BertNormalizer`, used by `BertTokenizer`).
indirect enum TextNormalizer: Sendable {
    case nfc, nfd, nfkc, nfkd
    /// Each scalar's full lowercase mapping, without context (Σ is always σ).
    case lowercase
    /// Removes White_Space scalars at the start and/or end.
    case strip(left: Bool, right: Bool)
    /// Puts `prefix` before a non-empty text.
    case prepend(String)
    /// Replaces every match of the pattern, left to right, with `content`.
    case replace(ReplacePattern, content: String)
    case precompiled(PrecompiledCharsmap)
    case sequence([TextNormalizer])

    func normalize(_ text: String) -> String {
        var startsAtOrigin = false
        return normalize(text, startsAtOrigin: &startsAtOrigin)
    }

    /// `text` normalized. `startsAtOrigin` tracks whether the first character still comes from the first
    /// character of the original text, as tokenizers' alignments say (Metaspace's `first` prepend scheme
    /// depends on it): a Strip that removes leading whitespace, or a Replace/Precompiled rule that rewrites
    /// several leading characters or deletes the first one, moves the start.
    func normalize(_ text: String, startsAtOrigin: inout Bool) -> String {
        switch self {
        case .nfc: return text.precomposedStringWithCanonicalMapping
        case .nfd: return text.decomposedStringWithCanonicalMapping
        case .nfkc: return text.precomposedStringWithCompatibilityMapping
        case .nfkd: return text.decomposedStringWithCompatibilityMapping
        case .lowercase:
            var output = String.UnicodeScalarView()
            for scalar in text.unicodeScalars {
                if scalar.isASCII {
                    output.append(scalar.properties.isUppercase ? Unicode.Scalar(scalar.value + 32)! : scalar)
                } else {
                    output.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
                }
            }
            return String(output)
        case .strip(let left, let right):
            let scalars = text.unicodeScalars
            var start = scalars.startIndex
            var end = scalars.endIndex
            if left {
                while start < end, scalars[start].properties.isWhitespace { start = scalars.index(after: start) }
            }
            if right {
                while end > start, scalars[scalars.index(before: end)].properties.isWhitespace {
                    end = scalars.index(before: end)
                }
            }
            if start != scalars.startIndex { startsAtOrigin = false }
            if start == scalars.startIndex, end == scalars.endIndex { return text }
            return String(scalars[start..<end])
        case .prepend(let prefix):
            return text.isEmpty ? text : prefix + text
        case .replace(let pattern, let content):
            if startsAtOrigin, let leading = pattern.leadingMatchLength(in: text),
                leading >= 2 || (leading == 1 && content.isEmpty)
            {
                startsAtOrigin = false
            }
            return pattern.replaceAll(in: text, with: content)
        case .precompiled(let charsmap):
            if startsAtOrigin, let first = text.first, charsmap.normalize(String(first)).isEmpty {
                startsAtOrigin = false
            }
            return charsmap.normalize(text)
        case .sequence(let normalizers):
            return normalizers.reduce(text) { $1.normalize($0, startsAtOrigin: &startsAtOrigin) }
        }
    }
}

// MARK: - ReplacePattern

/// What a `Replace` normalizer looks for: a literal string (compared scalar by scalar), a run of one character
/// (the regex `X{n,}`), or another regular expression (matched on Unicode scalars).
enum ReplacePattern: @unchecked Sendable {  // Regex is immutable once built
    case string([Unicode.Scalar])
    /// At least `minimum` copies of `scalar` in a row, all of them: the regex `X{n,}` with X a letter, digit or
    /// space — what the SentencePiece converters write (`" {2,}"`) — matched without a regex engine (Swift
    /// `Regex` costs more than the whole Unigram model on a text).
    case run(Unicode.Scalar, minimum: Int)
    case regex(Regex<AnyRegexOutput>)

    /// Whether `bytes` hold `minimum` copies of `byte` in a row.
    private static func hasRun(of byte: UInt8, minimum: Int, in bytes: String.UTF8View) -> Bool {
        var length = 0
        for current in bytes {
            length = current == byte ? length + 1 : 0
            if length >= minimum { return true }
        }
        return false
    }

    /// The `run` pattern a regex `X{n,}` stands for, or nil for any other regex.
    static func run(expression: String) -> ReplacePattern? {
        let scalars = Array(expression.unicodeScalars)
        guard scalars.count >= 5, scalars.count <= 8, scalars[1] == "{", scalars[scalars.count - 2] == ",",
            scalars[scalars.count - 1] == "}"
        else { return nil }
        let character = scalars[0]
        guard character == " " || character.properties.isAlphabetic || ("0"..."9").contains(character) else {
            return nil
        }
        let digits = scalars[2..<scalars.count - 2]
        guard digits.allSatisfy({ ("0"..."9").contains($0) }),
            let minimum = Int(String(String.UnicodeScalarView(digits))), minimum >= 1
        else { return nil }
        return .run(character, minimum: minimum)
    }

    /// The length in scalars of a match at the very start of `text`, if there is one.
    func leadingMatchLength(in text: String) -> Int? {
        switch self {
        case .string(let needle):
            guard !needle.isEmpty, text.unicodeScalars.starts(with: needle) else { return nil }
            return needle.count
        case .run(let scalar, let minimum):
            let length = text.unicodeScalars.prefix { $0 == scalar }.count
            return length >= minimum ? length : nil
        case .regex(let regex):
            guard let match = text.firstMatch(of: regex), match.range.lowerBound == text.startIndex else { return nil }
            return text.unicodeScalars[match.range].count
        }
    }

    func replaceAll(in text: String, with content: String) -> String {
        switch self {
        case .string(let needle):
            guard !needle.isEmpty else { return text }
            let scalars = Array(text.unicodeScalars)
            var output = String.UnicodeScalarView()
            var index = 0
            var changed = false
            while index < scalars.count {
                if scalars[index] == needle[0], index + needle.count <= scalars.count,
                    scalars[index..<index + needle.count].elementsEqual(needle)
                {
                    output.append(contentsOf: content.unicodeScalars)
                    index += needle.count
                    changed = true
                } else {
                    output.append(scalars[index])
                    index += 1
                }
            }
            return changed ? String(output) : text
        case .run(let scalar, let minimum):
            // Most texts have no such run: an ASCII scalar is found in the UTF-8 bytes without decoding.
            if scalar.isASCII, !Self.hasRun(of: UInt8(scalar.value), minimum: minimum, in: text.utf8) { return text }
            let scalars = text.unicodeScalars
            var output = String.UnicodeScalarView()
            var changed = false
            var index = scalars.startIndex
            while index < scalars.endIndex {
                guard scalars[index] == scalar else {
                    output.append(scalars[index])
                    index = scalars.index(after: index)
                    continue
                }
                var end = scalars.index(after: index)
                var length = 1
                while end < scalars.endIndex, scalars[end] == scalar {
                    end = scalars.index(after: end)
                    length += 1
                }
                if length >= minimum {
                    output.append(contentsOf: content.unicodeScalars)
                    changed = true
                } else {
                    output.append(contentsOf: scalars[index..<end])
                }
                index = end
            }
            return changed ? String(output) : text
        case .regex(let regex):
            return text.replacing(regex, with: content)
        }
    }
}
