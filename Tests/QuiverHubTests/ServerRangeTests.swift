import Foundation
import Testing

@testable import QuiverHub

/// `Range` and `Content-Range` headers as the blob and upload endpoints parse them.
@Suite struct ServerRangeTests {
    @Test(arguments: [
        ("bytes=0-99", 1000, 0...99), ("bytes=100-", 1000, 100...999), ("bytes=-500", 1000, 500...999),
        ("bytes=-5000", 1000, 0...999), ("bytes=990-2000", 1000, 990...999), (" bytes=0-0 ", 1, 0...0),
        ("bytes=0-\(Int.max)", Int.max, 0...(Int.max - 1)),
    ])
    func satisfiableBlobRanges(_ header: String, _ size: Int, _ expected: ClosedRange<Int>) throws {
        #expect(try ByteRanges.blobRange(header, size: size) == expected)
    }

    @Test(arguments: [
        "bytes=1000-", "bytes=5-4", "bytes=-0", "bytes=0-1,5-6", "bytes=a-b", "items=0-1", "bytes=-", "bytes=--1",
        "bytes=\(Int.max)-", "bytes=-\(Int.max)0",
    ])
    func unsatisfiableBlobRangesAre416(_ header: String) {
        let error = #expect(throws: RegistryError.self) { try ByteRanges.blobRange(header, size: 1000) }
        #expect(error?.code == .rangeInvalid && error?.status == .rangeNotSatisfiable)
        #expect(error?.headers[.contentRange] == "bytes */1000")
    }

    @Test func anEmptyBlobHasNoSatisfiableRange() throws {
        #expect(throws: RegistryError.self) { try ByteRanges.blobRange("bytes=-1", size: 0) }
        #expect(throws: RegistryError.self) { try ByteRanges.blobRange("bytes=0-", size: 0) }
        #expect(try ByteRanges.blobRange(nil, size: 0) == nil)
    }

    @Test(arguments: [("0-99", 0...99), ("bytes 100-199/1000", 100...199), ("5-5", 5...5), (" 0-0 ", 0...0)])
    func uploadContentRanges(_ header: String, _ expected: ClosedRange<Int>) throws {
        #expect(try ByteRanges.contentRange(header) == expected)
    }

    /// Found by `scripts/fuzz.sh hub`: `Content-Range: 0-9223372036854775807` parsed, and the controller's
    /// `range.count` (announced length) overflowed and trapped.
    @Test(arguments: ["0-\(Int.max)", "-1-5", "5-4", "0-", "-5", "a-b", "0-1-2", "", "bytes */1000"])
    func invalidUploadContentRangesAreRefused(_ header: String) {
        let error = #expect(throws: RegistryError.self) { try ByteRanges.contentRange(header) }
        #expect(error?.code == .blobUploadInvalid && error?.status == .rangeNotSatisfiable)
    }
}
