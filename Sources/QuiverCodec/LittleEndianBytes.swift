// MARK: - Explicit little-endian integers
//
// The container stores every integer little-endian whatever the host, and never assumes alignment.

extension UnsafeRawBufferPointer {
    /// The little-endian integer at `offset`; the caller has checked that it lies inside the buffer.
    func loadLittleEndian<Integer: FixedWidthInteger>(at offset: Int, as type: Integer.Type) -> Integer {
        precondition(offset >= 0 && offset + MemoryLayout<Integer>.size <= count, "read past the end of a buffer")
        return Integer(littleEndian: loadUnaligned(fromByteOffset: offset, as: Integer.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    /// Writes `value` little-endian at `offset`; the caller has checked that it fits.
    func storeLittleEndian<Integer: FixedWidthInteger>(_ value: Integer, at offset: Int) {
        precondition(offset >= 0 && offset + MemoryLayout<Integer>.size <= count, "write past the end of a buffer")
        storeBytes(of: value.littleEndian, toByteOffset: offset, as: Integer.self)
    }
}
