import Testing

@testable import QuiverCodec

// MARK: - Fast byte planes against the reference

@Suite struct BytePlanesTests {
    @Test(arguments: [1, 2, 4, 8])
    func splitMatchesReference(width: Int) {
        for count in [0, 1, 7, 8, 15, 16, 17, 31, 32, 33, 100, 1000, 4099] {
            let elements = TestBytes.random(count: count * width, seed: UInt64(count * 10 + width))
            var fast = [UInt8](repeating: 0, count: elements.count)
            var reference = [UInt8](repeating: 0xAA, count: elements.count)
            elements.withUnsafeBytes { source in
                fast.withUnsafeMutableBytes { BytePlanes.split(source, width: width, into: $0) }
                reference.withUnsafeMutableBytes { BytePlanesReference.split(source, width: width, into: $0) }
            }
            #expect(fast == reference, "width \(width), \(count) elements")
        }
    }

    @Test(arguments: [1, 2, 4, 8])
    func mergeMatchesReferenceAndInvertsSplit(width: Int) {
        for count in [0, 1, 15, 16, 17, 32, 33, 1000, 4099] {
            let elements = TestBytes.random(count: count * width, seed: UInt64(count * 10 + width + 5))
            var planes = [UInt8](repeating: 0, count: elements.count)
            elements.withUnsafeBytes { source in
                planes.withUnsafeMutableBytes { BytePlanesReference.split(source, width: width, into: $0) }
            }
            var fast = [UInt8](repeating: 0, count: elements.count)
            var reference = [UInt8](repeating: 0, count: elements.count)
            planes.withUnsafeBytes { all in
                let separate = (0..<width).map { plane in
                    UnsafeRawBufferPointer(rebasing: all[(plane * count)..<((plane + 1) * count)])
                }
                fast.withUnsafeMutableBytes { BytePlanes.merge(separate, into: $0) }
                reference.withUnsafeMutableBytes { BytePlanesReference.merge(separate, into: $0) }
            }
            #expect(fast == reference, "width \(width), \(count) elements")
            #expect(fast == elements, "width \(width), \(count) elements")
        }
    }

    @Test func planeHoldsTheSameByteOfEveryElement() {
        // Two F32 elements 0x44332211 and 0x88776655, little-endian.
        let elements: [UInt8] = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]
        var planes = [UInt8](repeating: 0, count: 8)
        elements.withUnsafeBytes { source in
            planes.withUnsafeMutableBytes { BytePlanes.split(source, width: 4, into: $0) }
        }
        #expect(planes == [0x11, 0x55, 0x22, 0x66, 0x33, 0x77, 0x44, 0x88])
    }
}
