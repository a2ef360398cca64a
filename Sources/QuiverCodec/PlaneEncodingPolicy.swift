import Foundation

// MARK: - Choosing how to encode a plane

/// How the encoder stores one byte plane.
enum PlaneEncoding: Equatable {
    case stored
    case deflated(DeflateStrategy)
}

/// Picks a plane's encoding from its byte histogram, before spending any time in zlib.
///
/// The order-0 entropy H (bits per byte) bounds what Huffman coding can reach. Measured on N(0, 0.02) weights,
/// the mantissa planes have H ≈ 7.97–8.0 (deflate gains < 0.5 %), the planes holding sign and exponent
/// H ≈ 2.7 (F32, BF16) or 5.5 (F16). So:
/// - H above ``storeAboveBitsPerByte``: stored (deflate would save < 5 %, at ~100 MB/s in and ~250 MB/s out);
/// - H below ``runLengthBelowBitsPerByte``: deflated with run-length matches, since Huffman alone cannot go
///   below 1 bit per byte (for i.i.d. bytes the two cross near H = 1.1);
/// - otherwise deflated Huffman-only.
enum PlaneEncodingPolicy {
    static let storeAboveBitsPerByte = 7.6
    static let runLengthBelowBitsPerByte = 1.2

    /// Large planes are judged on evenly spaced samples of this many windows of `sampleWindow` bytes: the
    /// entropy estimate moves by < 0.01 bit, the histogram pass costs 1/16 of a full one on a 1 MiB plane.
    static let sampleWindows = 16
    static let sampleWindow = 4096

    static func encoding(for plane: UnsafeRawBufferPointer) -> PlaneEncoding {
        guard !plane.isEmpty else { return .stored }
        let entropy = estimatedEntropyBitsPerByte(of: plane)
        if entropy > storeAboveBitsPerByte { return .stored }
        return .deflated(entropy < runLengthBelowBitsPerByte ? .runLength : .huffmanOnly)
    }

    /// The order-0 entropy of `bytes`, from all of them or from evenly spaced windows when there are many.
    static func estimatedEntropyBitsPerByte(of bytes: UnsafeRawBufferPointer) -> Double {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 4 * 256) { counts in
            counts.initialize(repeating: 0)
            let stride = bytes.count / sampleWindows
            if stride < 2 * sampleWindow {
                countBytes(bytes, into: counts)
            } else {
                for window in 0..<sampleWindows {
                    let start = window * stride
                    countBytes(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + sampleWindow)]), into: counts)
                }
            }
            return entropyBitsPerByte(counts)
        }
    }

    /// The entropy of the byte distribution in `counts` (four histograms of 256 entries, summed), 0...8.
    private static func entropyBitsPerByte(_ counts: UnsafeMutableBufferPointer<Int>) -> Double {
        var total = 0
        var sumCountLogCount = 0.0
        for value in 0..<256 {
            let count = counts[value] + counts[256 + value] + counts[512 + value] + counts[768 + value]
            total += count
            if count > 0 { sumCountLogCount += Double(count) * log2(Double(count)) }
        }
        return total == 0 ? 0 : max(0, log2(Double(total)) - sumCountLogCount / Double(total))
    }

    /// Four interleaved histograms so consecutive increments rarely hit the same counter.
    private static func countBytes(_ bytes: UnsafeRawBufferPointer, into counts: UnsafeMutableBufferPointer<Int>) {
        var index = 0
        while index + 4 <= bytes.count {
            counts[Int(bytes[index])] += 1
            counts[256 + Int(bytes[index + 1])] += 1
            counts[512 + Int(bytes[index + 2])] += 1
            counts[768 + Int(bytes[index + 3])] += 1
            index += 4
        }
        while index < bytes.count {
            counts[Int(bytes[index])] += 1
            index += 1
        }
    }
}
