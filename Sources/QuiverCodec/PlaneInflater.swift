import CZlib

// MARK: - Inflating one plane

/// A reusable zlib inflate stream for raw deflate planes that must inflate to exactly their declared length.
///
/// The output buffer is the declared length and no more, so a plane that would inflate beyond it stops at that
/// point and is refused: a decompression bomb costs at most one plane of work and no extra memory.
/// Not thread-safe: one instance per worker.
final class PlaneInflater {
    /// zlib keeps a pointer back to its `z_stream`, so the stream lives at a fixed heap address.
    private let stream: UnsafeMutablePointer<z_stream>

    init() throws {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = inflateInit2_(stream, -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            stream.deallocate()
            throw CodecError(.zlibFailure, "inflateInit2 returned \(status)")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Inflates all of `encoded` into all of `plane`; `location` names the plane in error messages.
    func inflate(
        _ encoded: UnsafeRawBufferPointer, into plane: UnsafeMutableRawBufferPointer,
        location: @autoclosure () -> String
    ) throws {
        guard let input = encoded.baseAddress, let output = plane.baseAddress else {
            throw CodecError(.corruptPlane, "\(location()): empty deflated plane")
        }
        let resetStatus = inflateReset(stream)
        guard resetStatus == Z_OK else { throw CodecError(.zlibFailure, "inflateReset returned \(resetStatus)") }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(encoded.count)
        stream.pointee.next_out = output.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(plane.count)
        let status = CZlib.inflate(stream, Z_FINISH)
        let produced = plane.count - Int(stream.pointee.avail_out)
        let unread = Int(stream.pointee.avail_in)
        switch status {
        case Z_STREAM_END where produced < plane.count:
            throw CodecError(.corruptPlane, "\(location()): inflates to \(produced) bytes, declared \(plane.count)")
        case Z_STREAM_END where unread > 0:
            throw CodecError(
                .corruptPlane, "\(location()): deflate stream ends \(unread) bytes before the plane's encoded end")
        case Z_STREAM_END:
            return
        case Z_OK where produced == plane.count && unread > 0, Z_BUF_ERROR where produced == plane.count && unread > 0:
            throw CodecError(
                .planeOverflow, "\(location()): inflates beyond its declared \(plane.count) bytes (stopped there)")
        case Z_OK, Z_BUF_ERROR:
            throw CodecError(
                .corruptPlane,
                "\(location()): deflate stream is incomplete after \(encoded.count) bytes (inflated \(produced) "
                    + "of \(plane.count))")
        case Z_DATA_ERROR:
            let reason = stream.pointee.msg.map { String(cString: $0) } ?? "invalid deflate data"
            throw CodecError(.corruptPlane, "\(location()): \(reason) (after inflating \(produced) bytes)")
        default:
            throw CodecError(.zlibFailure, "\(location()): inflate returned \(status)")
        }
    }
}
