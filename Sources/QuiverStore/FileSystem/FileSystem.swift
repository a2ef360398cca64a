import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Thin, checked wrappers over the POSIX calls the store relies on for durability.
enum FileSystem {
    static func errnoText() -> String { String(cString: strerror(errno)) }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func isDirectory(_ path: String) -> Bool {
        var status = stat()
        return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR
    }

    static func fileSize(_ path: String) -> Int? {
        var status = stat()
        guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int(status.st_size)
    }

    static func createDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw QuiverError(.io, "cannot create folder \(path): \(error.localizedDescription)")
        }
    }

    static func contentsOfDirectory(_ path: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    }

    /// Reads a whole (small) file, refusing files over `limit` bytes.
    static func read(_ path: String, limit: Int = 64 << 20) throws -> [UInt8] {
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

    static func remove(_ path: String) {
        unlink(path)
    }

    /// Removes a file or a whole folder; a missing path is not an error.
    static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The process that owns a temporary entry, read from its name: writers name what they leave
    /// in a registry's `tmp/` `PID-RANDOM.part` (files) or `KIND-PID-RANDOM` (folders).
    static func owner(ofTemporaryEntry name: String) -> pid_t? {
        var parts = name.split(separator: "-", maxSplits: 2, omittingEmptySubsequences: false)
        if let first = parts.first, !first.isEmpty, first.allSatisfy(\.isLetter) { parts.removeFirst() }
        guard parts.count >= 2, let pid = pid_t(parts[0]), pid > 0,
              parts[1].prefix(while: \.isNumber).count > 0 else { return nil }
        return pid
    }

    /// Whether a process with this id runs (on this machine's process namespace).
    static func processIsRunning(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno != ESRCH
    }

    /// Flushes a folder's entries (a rename inside it) to disk.
    static func syncDirectory(_ path: String) {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }

    /// Atomically replaces `destination` with `bytes` (temporary file, fsync, rename, fsync folder).
    static func writeAtomically(_ bytes: [UInt8], to destination: String, temporaryDirectory: String) throws {
        let file = try TemporaryFile(in: temporaryDirectory)
        do {
            try bytes.withUnsafeBytes { try file.write($0) }
            try file.commit(to: destination)
        } catch {
            file.discard()
            throw error
        }
    }
}

/// A file being written under a temporary name that becomes visible under its real name only once
/// complete and on disk (`commit`), or disappears (`discard`).
final class TemporaryFile {
    let path: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private static let bufferCapacity = 1 << 20
    private(set) var bytesWritten = 0

    init(in directory: String) throws {
        try FileSystem.createDirectory(directory)
        let name = "\(getpid())-\(UInt64.random(in: 0...UInt64.max)).part"
        path = directory + "/" + name
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw QuiverError(.io, "cannot create temporary file in \(directory): \(FileSystem.errnoText())")
        }
        buffer.reserveCapacity(Self.bufferCapacity)
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count > Self.bufferCapacity {
            try flush()
        }
        if bytes.count >= Self.bufferCapacity {
            try writeFully(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
        bytesWritten += bytes.count
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        let pending = buffer
        buffer.removeAll(keepingCapacity: true)
        try pending.withUnsafeBytes { try writeFully($0) }
    }

    private func writeFully(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw QuiverError(.io, "cannot write \(path): \(FileSystem.errnoText())")
            }
            offset += written
        }
    }

    /// Flushes, fsyncs and renames the file to `destination`, then (unless the caller batches it)
    /// fsyncs the destination folder so the rename itself is durable.
    func commit(to destination: String, syncingDirectory: Bool = true) throws {
        try flush()
        guard fsync(descriptor) == 0 else {
            throw QuiverError(.io, "cannot sync \(path): \(FileSystem.errnoText())")
        }
        close(descriptor)
        descriptor = -1
        let folder = (destination as NSString).deletingLastPathComponent
        try FileSystem.createDirectory(folder)
        guard rename(path, destination) == 0 else {
            throw QuiverError(.io, "cannot move \(path) to \(destination): \(FileSystem.errnoText())")
        }
        if syncingDirectory { FileSystem.syncDirectory(folder) }
    }

    func discard() {
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
        }
        unlink(path)
    }
}

/// An advisory lock on the registry (flock): commands that add content hold it shared, so they run
/// side by side; `gc` and `rm` hold it exclusive, so they never delete a blob a push is writing.
final class RegistryLock {
    enum Mode { case shared, exclusive }

    private let descriptor: Int32

    init(path: String, mode: Mode) throws {
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw QuiverError(.io, "cannot open lock file \(path): \(FileSystem.errnoText())")
        }
        while flock(descriptor, mode == .shared ? LOCK_SH : LOCK_EX) != 0 {
            if errno == EINTR { continue }
            close(descriptor)
            throw QuiverError(.io, "cannot lock \(path): \(FileSystem.errnoText())")
        }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
