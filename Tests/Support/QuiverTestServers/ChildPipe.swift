import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A pipe to or from one standard stream of a child process, both ends close-on-exec from the
/// moment they exist (`pipe2(O_CLOEXEC)`): the child it is handed to gets its own copy (as its 0, 1
/// or 2), and no other process the tests start at the same moment gets one.
///
/// Why not Foundation's `Pipe`: its ends are inherited by every child started while they are open.
/// A `docker-registry` another test started kept the writing end of a `quiver` command's output
/// open, so the test reading that output to its end waited until the registry stopped — while it
/// held one of the two cooperative threads that test needed to stop it.
///
/// ```swift
/// let output = ChildPipe(.fromChild)
/// process.standardOutput = output.childEnd
/// try process.run()
/// output.childStarted()
/// let bytes = output.ownEnd.readDataToEndOfFile()
/// ```
public final class ChildPipe: Sendable {
    public enum Direction: Sendable { case toChild, fromChild }

    /// The end to hand to the child (`Process.standardInput`, `standardOutput` or `standardError`).
    public let childEnd: FileHandle
    /// The end the test keeps: it writes the child's input to it, or reads the child's output.
    public let ownEnd: FileHandle

    public init(_ direction: Direction) {
        var descriptors: [Int32] = [-1, -1]
        precondition(linuxPipe2(&descriptors, O_CLOEXEC) == 0, "pipe2: \(String(cString: strerror(errno)))")
        let reading = FileHandle(fileDescriptor: descriptors[0], closeOnDealloc: true)
        let writing = FileHandle(fileDescriptor: descriptors[1], closeOnDealloc: true)
        (childEnd, ownEnd) = direction == .fromChild ? (writing, reading) : (reading, writing)
    }

    /// Closes this process's copy of the child's end once the child has started with its own;
    /// until then the test would never see the end of the child's output.
    public func childStarted() {
        try? childEnd.close()
    }
}

/// glibc's `pipe2`, which its headers declare only for `_GNU_SOURCE` (so Swift's Glibc module lacks it).
@_silgen_name("pipe2")
private func linuxPipe2(_ descriptors: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32
