import Foundation
import Hummingbird
import QuiverModel
import QuiverStore

#if canImport(Glibc)
    import Glibc
#endif

/// The bytes of a stored blob as a streamed response body, whole or one byte range.
///
/// A whole blob is hashed while it is sent: if it no longer matches its digest (damaged on disk),
/// the body ends with an error, the connection is closed before the last byte, and the client —
/// which verifies too — never takes it for the blob.
struct BlobFileBody {
    static let chunkLength = 1 << 20

    let path: String
    let digest: Digest
    /// The file's size.
    let size: Int

    /// Opens nothing yet: the size is read now, the file when the body is written.
    init?(path: String, digest: Digest) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.path = path
        self.digest = digest
        size = Int(info.st_size)
    }

    /// A single byte range of `Range: bytes=…`, or nil for the whole blob (see `ByteRanges.blobRange`).
    func range(from header: String?) throws(RegistryError) -> ClosedRange<Int>? {
        try ByteRanges.blobRange(header, size: size)
    }

    /// The response: `200` with the whole blob, or `206` with `Content-Range` for a range.
    func response(range: ClosedRange<Int>?, mediaType: String, head: Bool) -> Response {
        var headers: HTTPFields = [
            .contentType: mediaType, .dockerContentDigest: digest.description, .acceptRanges: "bytes",
            .eTag: "\"\(digest)\"", .cacheControl: "max-age=31536000",
        ]
        let status: HTTPResponse.Status
        let length: Int
        if let range {
            status = .partialContent
            headers[.contentRange] = "bytes \(range.lowerBound)-\(range.upperBound)/\(size)"
            length = range.count
        } else {
            status = .ok
            length = size
        }
        headers[.contentLength] = String(length)
        if head { return Response(status: status, headers: headers, body: .init()) }
        return Response(status: status, headers: headers, body: body(range: range))
    }

    private func body(range: ClosedRange<Int>?) -> ResponseBody {
        let path = path, digest = digest, size = size
        let start = range?.lowerBound ?? 0
        let end = range.map { $0.upperBound + 1 } ?? size
        let verify = range == nil
        return ResponseBody(contentLength: end - start) { writer in
            // Reads on the IO pool: a slow disk never holds a cooperative thread. The first read goes
            // with the open, so a small blob (most adapter files) costs one trip to the pool.
            let firstCount = min(Self.chunkLength, end - start)
            let (file, first) = try await BlockingWork.run(.io) {
                let file = try OpenBlob(path: path, digest: digest)
                return (file, try file.read(at: start, count: firstCount))
            }
            var hasher = DigestHasher()
            var offset = start
            var buffer = first
            while true {
                if verify { buffer.withUnsafeReadableBytes { hasher.update($0) } }
                offset += buffer.readableBytes
                try await writer.write(buffer)
                guard offset < end else { break }
                let (chunkStart, count) = (offset, min(Self.chunkLength, end - offset))
                buffer = try await BlockingWork.run(.io) { try file.read(at: chunkStart, count: count) }
            }
            if verify, hasher.finalize() != digest {
                throw QuiverError(.corrupt, "blob \(digest) is damaged on the server: its bytes hash to \(hasher.finalize())")
            }
            try await writer.finish(nil)
        }
    }
}

/// A blob file open for reading; closed when released.
private final class OpenBlob: Sendable {
    let descriptor: Int32
    let digest: Digest

    init(path: String, digest: Digest) throws {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        self.digest = digest
        guard descriptor >= 0 else { throw QuiverError(.io, "blob \(digest): \(String(cString: strerror(errno)))") }
    }

    deinit { close(descriptor) }

    /// `count` bytes from `offset` (a blocking read).
    func read(at offset: Int, count: Int) throws -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { bytes in
            var filled = 0
            while filled < count {
                let result = pread(descriptor, bytes.baseAddress! + filled, count - filled, off_t(offset + filled))
                if result < 0, errno == EINTR { continue }
                guard result > 0 else { throw QuiverError(.io, "blob \(digest): short read at byte \(offset + filled)") }
                filled += result
            }
            return filled
        }
        return buffer
    }
}
