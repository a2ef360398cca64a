import QuiverModel
import Foundation
#if canImport(Glibc)
import Glibc
#endif



/// A file being written under a temporary name that becomes visible under its real name only once
/// complete and on disk (`commit`), or disappears (`discard`).
final class TemporaryFile {
    let path: String
    private var descriptor: Int32
    private var buffer: [UInt8] = []
    private static let bufferCapacity = 1 << 20
    private(set) var bytesWritten = 0
    private var isSynced = false
    private var isAdopted = false

    /// Creates `<random>.part` in `directory`, locked (see `TemporaryOwnership`) until it is committed or discarded.
    init(in directory: String) throws {
        try FileSystem.createDirectory(directory)
        (path, descriptor) = try TemporaryOwnership.create(in: directory) { path in
            open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        } name: {
            "\(UInt64.random(in: 0...UInt64.max)).part"
        }
        buffer.reserveCapacity(Self.bufferCapacity)
    }

    /// A complete file someone else wrote at `path` (a download in a folder of `tmp/` its owner holds
    /// locked), taken as it is: `commit` syncs and moves it, `discard` leaves it to its owner.
    init(adopting path: String) throws {
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw QuiverError(.io, "cannot open \(path): \(FileSystem.errnoText())") }
        self.path = path
        isAdopted = true
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        isSynced = false
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

    /// Flushes and fsyncs the file (once: a later `commit` does not sync it again).
    func sync() throws {
        guard !isSynced else { return }
        try flush()
        guard fsync(descriptor) == 0 else {
            throw QuiverError(.io, "cannot sync \(path): \(FileSystem.errnoText())")
        }
        isSynced = true
    }

    /// Flushes, fsyncs and renames the file to `destination`, then (unless the caller batches it)
    /// fsyncs the destination folder so the rename itself is durable. The file stays locked until it
    /// has left `tmp/`, so a collector never takes it for abandoned.
    func commit(to destination: String, syncingDirectory: Bool = true) throws {
        try sync()
        let folder = (destination as NSString).deletingLastPathComponent
        try FileSystem.createDirectory(folder)
        guard rename(path, destination) == 0 else {
            throw QuiverError(.io, "cannot move \(path) to \(destination): \(FileSystem.errnoText())")
        }
        close(descriptor)
        descriptor = -1
        if syncingDirectory { FileSystem.syncDirectory(folder) }
    }

    /// Renames the (flushed, unsynced) file to `destination`: for scratch files that need no durability.
    func move(to destination: String) throws {
        try flush()
        guard rename(path, destination) == 0 else {
            throw QuiverError(.io, "cannot move \(path) to \(destination): \(FileSystem.errnoText())")
        }
        close(descriptor)
        descriptor = -1
    }

    func discard() {
        if !isAdopted { unlink(path) }
        if descriptor >= 0 {
            close(descriptor)
            descriptor = -1
        }
    }
}

// MARK: - Temporary entries owned by a lock

/// An entry of a registry's `tmp/` (a file, or a folder) belongs to whoever holds an exclusive
/// `flock` on it. A process that dies loses its locks, so an entry whose lock can be taken is
/// abandoned, whatever process, container or machine made it; process ids would mean nothing
/// across containers sharing the folder.
///
/// An owner creates the entry, then locks it; a collector that removed it in between is noticed
/// (the entry has no link left) and the owner makes another.
public enum TemporaryOwnership {
    /// Takes the lock of an entry the caller just opened. False when a collector removed the entry
    /// before the lock was taken.
    public static func claim(_ descriptor: Int32) -> Bool {
        while flock(descriptor, LOCK_EX) != 0 {
            if errno != EINTR { return false }
        }
        var status = stat()
        return fstat(descriptor, &status) == 0 && status.st_nlink > 0
    }

    /// Creates and claims a new entry in `directory`: `create` opens it (or returns -1 with errno
    /// set), `name` picks a fresh name for each attempt.
    static func create(
        in directory: String, _ create: (String) -> Int32, name: () -> String
    ) throws -> (path: String, descriptor: Int32) {
        for _ in 0..<8 {
            let path = directory + "/" + name()
            let descriptor = create(path)
            guard descriptor >= 0 else {
                if errno == ENOENT { continue }  // a folder removed between its mkdir and its open
                throw QuiverError(.io, "cannot create \(path): \(FileSystem.errnoText())")
            }
            if claim(descriptor) { return (path, descriptor) }
            close(descriptor)
        }
        throw QuiverError(.io, "cannot create a temporary entry in \(directory): it is removed as soon as it is made")
    }

    /// Removes the entry at `path` when nobody holds its lock; true when it did.
    static func removeIfAbandoned(_ path: String) -> Bool {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else {
            // Not openable (a dangling link, no permission): nobody can hold a lock on it either.
            guard errno != ENOENT else { return false }
            FileSystem.removeTree(path)
            return true
        }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return false }
        var held = stat()
        var current = stat()
        guard fstat(descriptor, &held) == 0, lstat(path, &current) == 0, held.st_ino == current.st_ino, held.st_dev == current.st_dev
        else { return false }
        FileSystem.removeTree(path)
        return true
    }
}

/// A folder in a registry's `tmp/` for the work of one command (downloads of a pull, the files of an
/// import), locked for its owner until `remove()`.
public final class TemporaryFolder: Sendable {
    public let path: String
    private let descriptor: Int32

    /// Creates `<prefix>-<random>/` in `directory`.
    public init(in directory: String, prefix: String) throws {
        try FileSystem.createDirectory(directory)
        (path, descriptor) = try TemporaryOwnership.create(in: directory) { path in
            guard mkdir(path, 0o755) == 0 else { return -1 }
            return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        } name: {
            "\(prefix)-\(UInt64.random(in: 0...UInt64.max))"
        }
    }

    /// Removes the folder and what it holds (while still holding its lock).
    public func remove() {
        FileSystem.removeTree(path)
    }

    deinit {
        FileSystem.removeTree(path)
        close(descriptor)
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

extension FileSystem {
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
