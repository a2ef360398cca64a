/// Short ASCII text written straight into a string's storage, with no buffer or interpolation in between: `quiver list`
/// formats tens of thousands of counts, sizes and dates, and building each from smaller strings took most of its time.
///
/// ```swift
/// ASCIIText.make(capacity: 8) { $0.put(digitsOf: 7, width: 2); $0.put(":"); $0.put(digitsOf: 5, width: 2) }  // "07:05"
/// ```
package struct ASCIIText {
    private let storage: UnsafeMutableBufferPointer<UInt8>
    private var length = 0

    /// The text `write` puts, at most `capacity` bytes (15 or fewer make no allocation: a small string).
    package static func make(capacity: Int, _ write: (inout ASCIIText) -> Void) -> String {
        String(unsafeUninitializedCapacity: capacity) { storage in
            var text = ASCIIText(storage: storage)
            write(&text)
            return text.length
        }
    }

    private init(storage: UnsafeMutableBufferPointer<UInt8>) { self.storage = storage }

    package mutating func put(_ byte: UInt8) {
        storage[length] = byte
        length += 1
    }

    package mutating func put(_ text: StaticString) {
        for index in 0..<text.utf8CodeUnitCount { put(text.utf8Start[index]) }
    }

    /// The decimal digits of `value` (not negative), zero-padded to `width`.
    package mutating func put(digitsOf value: Int, width: Int = 1) {
        let digits = max(Self.digitCount(value), width)
        var rest = value
        for position in (length..<length + digits).reversed() {
            storage[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        length += digits
    }

    /// How many decimal digits `value` (not negative) has.
    package static func digitCount(_ value: Int) -> Int {
        var digits = 1, rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        return digits
    }
}
