import Foundation

@testable import QuiverCodec

// MARK: - Test data

/// Deterministic byte patterns for codec tests.
enum TestBytes {
    /// Uniformly random bytes from a seeded generator.
    static func random(count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        var bytes = [UInt8](repeating: 0, count: count)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: generator.next()) }
        return bytes
    }

    /// `count` bytes repeating `pattern`.
    static func repeating(_ pattern: [UInt8], count: Int) -> [UInt8] {
        (0..<count).map { pattern[$0 % pattern.count] }
    }
}

// MARK: - Streaming helpers

/// Runs `TensorCodec`'s streaming calls over arrays, delivering at most `readSize` bytes per read as a pipe or
/// socket might.
enum Streaming {
    static func source(_ input: [UInt8], readSize: Int) -> ByteSource {
        let cursor = Cursor()
        return { buffer in
            let count = min(buffer.count, readSize, input.count - cursor.offset)
            input.withUnsafeBytes { bytes in
                buffer.copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: bytes[cursor.offset..<(cursor.offset + count)]))
            }
            cursor.offset += count
            return count
        }
    }

    static func compress(
        _ input: [UInt8], elementWidth: Int, chunkSize: Int, threadCount: Int = 2, readSize: Int = 1000
    ) throws -> (encoded: [UInt8], counts: CodecByteCounts) {
        var encoded: [UInt8] = []
        let counts = try TensorCodec.compress(
            rawLength: input.count, elementWidth: elementWidth, chunkSize: chunkSize, threadCount: threadCount,
            from: source(input, readSize: readSize), to: { encoded.append(contentsOf: $0) })
        return (encoded, counts)
    }

    static func decompress(_ encoded: [UInt8], threadCount: Int = 2, readSize: Int = 1000) throws
        -> (raw: [UInt8], counts: CodecByteCounts)
    {
        var raw: [UInt8] = []
        let counts = try TensorCodec.decompress(
            threadCount: threadCount, from: source(encoded, readSize: readSize), to: { raw.append(contentsOf: $0) })
        return (raw, counts)
    }

    private final class Cursor { var offset = 0 }
}
