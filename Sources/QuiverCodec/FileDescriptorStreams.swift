import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// MARK: - Streams over file descriptors

extension TensorCodec {
    /// A ``ByteSource`` that reads an open file descriptor from its current offset, retrying interrupted reads.
    /// Throws `POSIXError` when `read(2)` fails. The descriptor stays open; closing it is the caller's job.
    ///
    /// ```swift
    /// let counts = try TensorCodec.compress(
    ///     rawLength: fileSize, elementWidth: 4, from: TensorCodec.source(reading: input),
    ///     to: TensorCodec.sink(writing: output))
    /// ```
    public static func source(reading fileDescriptor: Int32) -> ByteSource {
        { buffer in
            while true {
                let count = read(fileDescriptor, buffer.baseAddress, buffer.count)
                if count >= 0 { return count }
                if errno != EINTR { throw posixError("read") }
            }
        }
    }

    /// A ``ByteSink`` that writes every byte it receives to an open file descriptor, retrying short and
    /// interrupted writes. Throws `POSIXError` when `write(2)` fails.
    public static func sink(writing fileDescriptor: Int32) -> ByteSink {
        { bytes in
            var written = 0
            while written < bytes.count {
                let count = write(fileDescriptor, bytes.baseAddress! + written, bytes.count - written)
                if count >= 0 {
                    written += count
                } else if errno != EINTR {
                    throw posixError("write")
                }
            }
        }
    }

    private static func posixError(_ operation: String) -> POSIXError {
        POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO, userInfo: [NSLocalizedDescriptionKey: operation])
    }
}
