import Foundation
import Hummingbird
import HummingbirdTesting
import QuiverStore
import QuiverModel
import Testing

@testable import QuiverHub

/// Every number a request carries (Content-Range, Content-Length, pagination) is compared with a
/// limit before any arithmetic: boundary values get a 4xx, never a trap, and the server goes on.
@Suite struct ServerHostileNumbersTests {
    static let boundaries = ["\(Int.max)", "\(Int.max - 1)", "9223372036854775808", "-1", "4294967296", "18446744073709551616"]

    /// The request that crashed the server: a chunk announced at byte Int.max − 1 (`start + length`
    /// overflowed before the size check).
    @Test func aChunkAnnouncedNearIntMaxIsRefusedAndTheServerGoesOn() async throws {
        let workspace = try ServerWorkspace.empty()
        try await workspace.app().test(.router) { client in
            let start = try await client.send(.post, "/v2/quiver/task/blobs/uploads/")
            let location = try #require(start.header("Location"))
            let crash = "9223372036854775806-9223372036854775806"
            let answer = try await client.send(.patch, location, headers: [.contentRange: crash], body: Array("ab".utf8))
            #expect((400..<500).contains(answer.status.code), "\(answer.status) \(answer.text)")
            for number in Self.boundaries {
                for range in ["\(number)-\(number)", "0-\(number)", "\(number)-0"] {
                    let response = try await client.send(.patch, location, headers: [.contentRange: range], body: Array("ab".utf8))
                    #expect((400..<500).contains(response.status.code), "Content-Range \(range): \(response.status)")
                }
            }
            // The upload is intact and still takes bytes from where it stands.
            let chunk = try await client.send(.patch, location, headers: [.contentRange: "0-1"], body: Array("ab".utf8))
            #expect(chunk.status == .accepted)
            #expect(chunk.header("Range") == "0-1")
            let alive = try await client.send(.get, "/v2/")
            #expect(alive.status == .ok)
        }
    }

    @Test func paginationBoundariesAreAnsweredNotTrapped() async throws {
        let workspace = try ServerWorkspace.filled()
        try await workspace.app().test(.router) { client in
            for number in Self.boundaries {
                for path in ["/v2/_catalog?n=\(number)", "/v2/quiver/topic/tags/list?n=\(number)&last=\(number)", "/v2/_catalog?last=\(number)"] {
                    let response = try await client.send(.get, path)
                    #expect(response.status == .ok || response.ociErrorCode == "PAGINATION_NUMBER_INVALID", "\(path): \(response.status)")
                }
            }
        }
    }

    @Test func aNegativeOrHugeContentLengthIsNotTakenForALength() {
        for (text, expected) in [("-1", nil), ("12", 12), ("9223372036854775808", nil), ("0", 0), ("1e3", nil)] as [(String, Int?)] {
            let request = Request(
                head: .init(method: .patch, scheme: "http", authority: "localhost", path: "/", headerFields: [.contentLength: text]),
                body: .init(buffer: ByteBuffer()))
            #expect(RequestBodyReader.declaredLength(request) == expected, "\(text)")
        }
    }
}
