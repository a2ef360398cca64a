import Foundation
import QuiverModel

/// Where the registry is when `--home` is not given: the CLI's policy, not the store's.
enum DefaultHome {
    /// The registry folder to use: `QUIVER_HOME`, else the `registry/` folder of the Quiver checkout
    /// containing the working directory, else `~/.quiver`.
    static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let home = environment["QUIVER_HOME"], !home.isEmpty { return home }
        var folder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).standardizedFileURL
        while true {
            let candidate = folder.appendingPathComponent("registry")
            if FileSystem.exists(candidate.appendingPathComponent("README.md").path),
               let manifest = FileManager.default.contents(atPath: folder.appendingPathComponent("Package.swift").path),
               String(decoding: manifest, as: UTF8.self).contains("name: \"Quiver\"")
            {
                return candidate.path
            }
            let parent = folder.deletingLastPathComponent()
            if parent.path == folder.path { break }
            folder = parent
        }
        return (environment["HOME"] ?? NSHomeDirectory()) + "/.quiver"
    }
}
