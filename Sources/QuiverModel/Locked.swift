import Foundation

/// A value behind a lock: `Synchronization.Mutex`'s `withLock`, on a `pthread_mutex` (through `NSLock`).
/// Use it, not `Mutex`, everywhere in Quiver.
///
/// Why not `Mutex`: on Linux it hands a contended lock over in the kernel (priority-inheritance futexes, in
/// library code ThreadSanitizer does not instrument), so `make sanitize` reported every contended critical
/// section as a data race. ThreadSanitizer intercepts pthread mutexes, so with this lock its reports are real.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
