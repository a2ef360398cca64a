import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Thin, checked wrappers over the POSIX calls the store relies on for durability.
package enum FileSystem {
    package static func errnoText() -> String { String(cString: strerror(errno)) }

    package static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    package static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }

    package static func fileSize(_ path: String) -> Int? {
        var status = stat()
        guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(status.st_size)
    }

    package static func createDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw QuiverError(.io, "cannot create folder \(path): \(error.localizedDescription)")
        }
    }

    package static func contentsOfDirectory(_ path: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    }

    /// Reads a whole (small) file, refusing files over `limit` bytes.
    package static func read(_ path: String, limit: Int = 64 << 20) throws -> [UInt8] {
        guard let size = fileSize(path) else {
            throw QuiverError(.invalidInput, "\(path): no such file")
        }
        guard size <= limit else {
            throw QuiverError(.invalidInput, "\(path): \(size) bytes is over the \(limit)-byte limit for this kind of file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw QuiverError(.io, "\(path): cannot read")
        }
        return [UInt8](data)
    }

    package static func remove(_ path: String) {
        unlink(path)
    }

    /// Removes a file or a whole folder; a missing path is not an error.
    package static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Flushes a folder's entries (a rename inside it) to disk.
    package static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}
