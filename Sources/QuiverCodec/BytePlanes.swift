// MARK: - Byte planes, fast implementation
//
// Same contract as BytePlanesReference (see there), vectorised: each step loads 16 elements (8 for width 8)
// as a SIMD vector of `width`-byte lanes and stores one shifted and truncated vector per plane (or the reverse
// for merge). SIMD16/SIMD8 are used on purpose: conversions between SIMD32 types fall back to a per-lane
// loop that measured 80x slower. The lanes are host-endian, so the vector path is used on little-endian hosts
// only; elements that do not fill a whole vector, and big-endian hosts, take the scalar loop.

enum BytePlanes {
    /// Splits `elements` (a whole number of `width`-byte elements) into `width` consecutive planes in `planes`.
    static func split(_ elements: UnsafeRawBufferPointer, width: Int, into planes: UnsafeMutableRawBufferPointer) {
        precondition(width > 0 && elements.count % width == 0 && planes.count >= elements.count)
        let count = elements.count / width
        guard count > 0, let source = elements.baseAddress, let destination = planes.baseAddress else { return }
        var done = 0
        #if _endian(little)
            switch width {
            case 2: done = split2(source, count: count, into: destination)
            case 4: done = split4(source, count: count, into: destination)
            case 8: done = split8(source, count: count, into: destination)
            default: break
            }
        #endif
        let bytes = source.assumingMemoryBound(to: UInt8.self)
        let planeBytes = destination.assumingMemoryBound(to: UInt8.self)
        for element in done..<count {
            for byte in 0..<width {
                planeBytes[byte * count + element] = bytes[element * width + byte]
            }
        }
    }

    /// Interleaves `planes` (one buffer per byte of an element, all the same length) back into `elements`.
    static func merge(_ planes: [UnsafeRawBufferPointer], into elements: UnsafeMutableRawBufferPointer) {
        let width = planes.count
        let count = planes.first?.count ?? 0
        precondition(planes.allSatisfy { $0.count == count } && elements.count >= count * width)
        guard count > 0, let destination = elements.baseAddress else { return }
        let sources = planes.map { $0.baseAddress! }
        var done = 0
        #if _endian(little)
            switch width {
            case 2: done = merge2(sources, count: count, into: destination)
            case 4: done = merge4(sources, count: count, into: destination)
            case 8: done = merge8(sources, count: count, into: destination)
            default: break
            }
        #endif
        let bytes = destination.assumingMemoryBound(to: UInt8.self)
        for element in done..<count {
            for byte in 0..<width {
                bytes[element * width + byte] = sources[byte].load(fromByteOffset: element, as: UInt8.self)
            }
        }
    }
}

// MARK: - Vector kernels (little-endian hosts)
//
// Each kernel handles the largest multiple of its lane count and returns how many elements it did.

extension BytePlanes {
    private static func split2(_ source: UnsafeRawPointer, count: Int, into planes: UnsafeMutableRawPointer) -> Int {
        var element = 0
        while element + 16 <= count {
            let lanes = source.loadUnaligned(fromByteOffset: element * 2, as: SIMD16<UInt16>.self)
            for byte in 0..<2 {
                planes.storeBytes(
                    of: SIMD16<UInt8>(truncatingIfNeeded: lanes &>> UInt16(8 * byte)),
                    toByteOffset: byte * count + element, as: SIMD16<UInt8>.self)
            }
            element += 16
        }
        return element
    }

    private static func split4(_ source: UnsafeRawPointer, count: Int, into planes: UnsafeMutableRawPointer) -> Int {
        var element = 0
        while element + 16 <= count {
            let lanes = source.loadUnaligned(fromByteOffset: element * 4, as: SIMD16<UInt32>.self)
            for byte in 0..<4 {
                planes.storeBytes(
                    of: SIMD16<UInt8>(truncatingIfNeeded: lanes &>> UInt32(8 * byte)),
                    toByteOffset: byte * count + element, as: SIMD16<UInt8>.self)
            }
            element += 16
        }
        return element
    }

    private static func split8(_ source: UnsafeRawPointer, count: Int, into planes: UnsafeMutableRawPointer) -> Int {
        var element = 0
        while element + 8 <= count {
            let lanes = source.loadUnaligned(fromByteOffset: element * 8, as: SIMD8<UInt64>.self)
            for byte in 0..<8 {
                planes.storeBytes(
                    of: SIMD8<UInt8>(truncatingIfNeeded: lanes &>> UInt64(8 * byte)),
                    toByteOffset: byte * count + element, as: SIMD8<UInt8>.self)
            }
            element += 8
        }
        return element
    }

    private static func merge2(_ planes: [UnsafeRawPointer], count: Int, into elements: UnsafeMutableRawPointer) -> Int
    {
        let (plane0, plane1) = (planes[0], planes[1])
        var element = 0
        while element + 16 <= count {
            func lanes(_ plane: UnsafeRawPointer) -> SIMD16<UInt16> {
                SIMD16<UInt16>(truncatingIfNeeded: plane.loadUnaligned(fromByteOffset: element, as: SIMD16<UInt8>.self))
            }
            elements.storeBytes(
                of: lanes(plane0) | lanes(plane1) &<< 8, toByteOffset: element * 2, as: SIMD16<UInt16>.self)
            element += 16
        }
        return element
    }

    private static func merge4(_ planes: [UnsafeRawPointer], count: Int, into elements: UnsafeMutableRawPointer) -> Int
    {
        let (plane0, plane1, plane2, plane3) = (planes[0], planes[1], planes[2], planes[3])
        var element = 0
        while element + 16 <= count {
            func lanes(_ plane: UnsafeRawPointer) -> SIMD16<UInt32> {
                SIMD16<UInt32>(truncatingIfNeeded: plane.loadUnaligned(fromByteOffset: element, as: SIMD16<UInt8>.self))
            }
            let merged = lanes(plane0) | lanes(plane1) &<< 8 | lanes(plane2) &<< 16 | lanes(plane3) &<< 24
            elements.storeBytes(of: merged, toByteOffset: element * 4, as: SIMD16<UInt32>.self)
            element += 16
        }
        return element
    }

    private static func merge8(_ planes: [UnsafeRawPointer], count: Int, into elements: UnsafeMutableRawPointer) -> Int
    {
        var element = 0
        while element + 8 <= count {
            var merged = SIMD8<UInt64>()
            for byte in 0..<8 {
                let bytes = planes[byte].loadUnaligned(fromByteOffset: element, as: SIMD8<UInt8>.self)
                merged |= SIMD8<UInt64>(truncatingIfNeeded: bytes) &<< UInt64(8 * byte)
            }
            elements.storeBytes(of: merged, toByteOffset: element * 8, as: SIMD8<UInt64>.self)
            element += 8
        }
        return element
    }
}
