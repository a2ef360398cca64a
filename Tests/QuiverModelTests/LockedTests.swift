import Foundation
import Testing
import QuiverModel

/// `Locked`, the one lock of every module, and the rule that keeps ThreadSanitizer's reports real.
@Suite struct LockedTests {
    @Test func threadsTakeTurns() async {
        let counter = Locked(0)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { for _ in 0..<10_000 { counter.withLock { $0 += 1 } } }
            }
        }
        #expect(counter.withLock { $0 } == 80_000)
    }

    /// `Synchronization.Mutex` hands a contended lock over in code ThreadSanitizer does not see, so
    /// every contended critical section behind one reads as a race in `make sanitize` (CI failed on
    /// one): Quiver's code, tests and benchmarks lock with `Locked` only. The module's `Atomic` is
    /// allowed: its operations are compiler atomics, which ThreadSanitizer instruments.
    @Test func noCodeUsesSynchronizationMutex() throws {
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
        var offenders: [String] = []
        var scanned = 0
        for folder in ["Sources", "Tests", "Benchmarks"] {
            let files = try #require(FileManager.default.enumerator(at: package.appendingPathComponent(folder), includingPropertiesForKeys: nil))
            for case let file as URL in files where file.pathExtension == "swift" && file.lastPathComponent != "LockedTests.swift" {
                scanned += 1
                let text = try String(contentsOf: file, encoding: .utf8)
                for line in text.split(separator: "\n") where line.contains("Mutex<") || line.contains("Mutex(") || line.contains("Mutex ") {
                    offenders.append("\(file.lastPathComponent): \(line.trimmingCharacters(in: .whitespaces))")
                }
            }
        }
        #expect(scanned > 200, "found \(scanned) Swift files under \(package.path)")
        #expect(offenders.isEmpty, "use Locked, not Mutex: \(offenders)")
    }
}
