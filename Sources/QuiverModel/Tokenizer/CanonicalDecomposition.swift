import Foundation

// MARK: - CanonicalDecomposition

/// The full canonical decomposition (the NFD form) of single Unicode scalars, for accent stripping.
///
/// Swift has no public per-scalar decomposition, and calling Foundation's NFD for every word is slow, so the
/// table is built once per process: one Foundation NFD call over every block that holds decomposable scalars
/// (about 2,100 of them besides Hangul, whose syllables decompose arithmetically).
///
/// Decomposing scalar by scalar skips NFD's canonical reordering of combining marks. After accent stripping
/// drops the nonspacing marks (Mn) this only matters for spacing marks with a non-zero combining class
/// next to each other, which no real text has.
enum CanonicalDecomposition {
    /// Calls `body` with each scalar of the decomposition of `scalar` (just `scalar` when it has none).
    @inline(__always)
    static func forEach(_ scalar: Unicode.Scalar, _ body: (Unicode.Scalar) -> Void) {
        let value = scalar.value
        if value < 0xC0 {  // the first decomposable scalar is U+00C0
            body(scalar)
        } else if (hangulFirst...hangulLast).contains(value) {
            decomposeHangul(value, body)
        } else if let range = table.range(of: value) {
            for index in range { body(Unicode.Scalar(table.parts[index])!) }
        } else {
            body(scalar)
        }
    }

    // MARK: Hangul syllables (Unicode §3.12)

    private static let hangulFirst: UInt32 = 0xAC00
    private static let hangulLast: UInt32 = 0xD7A3

    private static func decomposeHangul(_ value: UInt32, _ body: (Unicode.Scalar) -> Void) {
        let index = value - hangulFirst
        let trailingCount: UInt32 = 28
        let vowelTrailingCount: UInt32 = 21 * trailingCount
        body(Unicode.Scalar(0x1100 + index / vowelTrailingCount)!)
        body(Unicode.Scalar(0x1161 + (index % vowelTrailingCount) / trailingCount)!)
        if index % trailingCount != 0 { body(Unicode.Scalar(0x11A7 + index % trailingCount)!) }
    }

    // MARK: Table

    /// Scalars with a decomposition, sorted, and their decompositions in one flat array.
    struct Table: Sendable {
        var keys: [UInt32] = []
        var starts: [Int32] = [0]
        var parts: [UInt32] = []

        func range(of value: UInt32) -> Range<Int>? {
            guard let first = keys.first, let last = keys.last, value >= first, value <= last else { return nil }
            var low = 0
            var high = keys.count
            while low < high {
                let middle = (low + high) >> 1
                if keys[middle] < value { low = middle + 1 } else { high = middle }
            }
            guard low < keys.count, keys[low] == value else { return nil }
            return Int(starts[low])..<Int(starts[low + 1])
        }
    }

    /// The blocks scanned for decomposable scalars (Latin to CJK symbols, the compatibility ideographs and
    /// presentation forms, the historic scripts of plane 1, musical symbols, the supplementary compatibility
    /// ideographs). Hangul syllables are computed instead.
    static let scannedRanges: [Range<UInt32>] = [
        0x00C0..<0x3400, 0xF900..<0xFC00, 0x10000..<0x12000, 0x16D00..<0x16E00, 0x1D100..<0x1D200,
        0x2F800..<0x2FA20,
    ]

    static let table: Table = {
        // Every scanned scalar followed by U+0001, a starter that stops canonical reordering between neighbours,
        // so the NFD of the whole text splits back into the NFD of each scalar.
        let separator: Unicode.Scalar = "\u{1}"
        var originals: [UInt32] = []
        var text = String.UnicodeScalarView()
        for range in scannedRanges {
            for value in range {
                guard let scalar = Unicode.Scalar(value) else { continue }  // surrogates
                originals.append(value)
                text.append(scalar)
                text.append(separator)
            }
        }
        let decomposed = String(text).decomposedStringWithCanonicalMapping.unicodeScalars
        var table = Table()
        var index = 0
        var current: [UInt32] = []
        for scalar in decomposed {
            guard scalar != separator else {
                if index < originals.count, current != [originals[index]] {
                    table.keys.append(originals[index])
                    table.parts.append(contentsOf: current)
                    table.starts.append(Int32(table.parts.count))
                }
                index += 1
                current.removeAll(keepingCapacity: true)
                continue
            }
            current.append(scalar.value)
        }
        precondition(index == originals.count, "NFD of the scanned scalars did not split back into \(originals.count)")
        return table
    }()
}
