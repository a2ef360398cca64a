import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a data file front to back in chunks, hashing every byte, without holding more than one
/// chunk: the examples are all a dataset keeps of the file.
final class DataFileReader {
    let path: String
    let maximumBytes: Int
    private let descriptor: Int32
    private var hasher = DigestHasher()
    private var buffer: [UInt8]

    /// Opens `path`, refusing what is not a regular file or is larger than `maximumBytes`.
    init(path: String, maximumBytes: Int, chunkSize: Int = 1 << 20) throws {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw QuiverError(.invalidInput, "\(path): no such file")
        }
        guard (status.st_mode & S_IFMT) != S_IFDIR else {
            throw QuiverError(.invalidInput, "\(path): is a folder, not a data file")
        }
        if (status.st_mode & S_IFMT) == S_IFREG, Int(status.st_size) > maximumBytes {
            throw QuiverError(.invalidInput, "\(path): \(status.st_size) bytes, over the \(Dataset.describe(bytes: maximumBytes)) limit for a data file")
        }
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw QuiverError(.io, "\(path): cannot open: \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.maximumBytes = maximumBytes
        self.descriptor = descriptor
        buffer = [UInt8](repeating: 0, count: chunkSize)
    }

    deinit { close(descriptor) }

    /// Bytes read so far.
    var byteCount: Int { hasher.count }

    /// Calls `body` with the next bytes of the file (never empty); false at the end of the file.
    func next(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws -> Bool {
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            if errno == EINTR { return try next(body) }
            throw QuiverError(.io, "\(path): cannot read: \(String(cString: strerror(errno)))")
        }
        guard count > 0 else { return false }
        try buffer.withUnsafeBufferPointer { all in
            let chunk = UnsafeBufferPointer(rebasing: all[0..<count])
            hasher.update(UnsafeRawBufferPointer(chunk))
            // A file that grows while it is read is held to the same limit.
            guard hasher.count <= maximumBytes else {
                throw QuiverError(.invalidInput, "\(path): over the \(Dataset.describe(bytes: maximumBytes)) limit for a data file")
            }
            try body(chunk)
        }
        return true
    }

    /// The SHA-256 of every byte read.
    func digest() -> Digest { hasher.finalize() }
}
