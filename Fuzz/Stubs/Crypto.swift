// A stand-in for swift-crypto's SHA256 in fuzz builds only (scripts/fuzz.sh): the fuzz targets parse
// digests but never need real hashes, and building BoringSSL with coverage would cost more than all the
// targets together. Never part of the package.

public struct SHA256: Sendable {
    public struct Digest: Sequence, Sendable {
        let bytes: [UInt8]
        public func makeIterator() -> IndexingIterator<[UInt8]> { bytes.makeIterator() }
    }

    private var state: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func update(bufferPointer: UnsafeRawBufferPointer) {
        for byte in bufferPointer { state = (state ^ UInt64(byte)) &* 0x100_0000_01b3 }
    }

    public func finalize() -> Digest {
        Digest(bytes: (0..<32).map { UInt8(truncatingIfNeeded: state >> (UInt64($0 % 8) * 8)) })
    }
}
