// MARK: - Byte planes, reference implementation
//
// The plain definition of byte-plane grouping, kept next to the fast version in BytePlanes.swift; the tests
// check one against the other. For `count` elements of `width` bytes:
//
//   planes[k][i] == elements[i * width + k]      for k in 0..<width, i in 0..<count
//
// Byte k is the k-th byte in memory order (the file's order), so on little-endian data plane 0 holds the
// least significant byte of each element and plane width-1 the sign and exponent bits.

enum BytePlanesReference {
    /// Splits `elements` (a whole number of `width`-byte elements) into `width` consecutive planes in `planes`.
    static func split(_ elements: UnsafeRawBufferPointer, width: Int, into planes: UnsafeMutableRawBufferPointer) {
        precondition(width > 0 && elements.count % width == 0 && planes.count >= elements.count)
        let count = elements.count / width
        for element in 0..<count {
            for byte in 0..<width {
                planes[byte * count + element] = elements[element * width + byte]
            }
        }
    }

    /// Interleaves `planes` (one buffer per byte of an element, all the same length) back into `elements`.
    static func merge(_ planes: [UnsafeRawBufferPointer], into elements: UnsafeMutableRawBufferPointer) {
        let width = planes.count
        let count = planes.first?.count ?? 0
        precondition(planes.allSatisfy { $0.count == count } && elements.count >= count * width)
        for element in 0..<count {
            for byte in 0..<width {
                elements[element * width + byte] = planes[byte][element]
            }
        }
    }
}
