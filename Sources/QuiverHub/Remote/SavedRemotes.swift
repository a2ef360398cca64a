import Foundation
import QuiverStore

/// The remotes saved with `quiver remote add NAME URL`, in `remotes.json` of the registry folder.
/// The file holds names and URLs only, never credentials; it is replaced atomically on every change.
///
/// ```json
/// {"remotes": {"team": "https://registry.example.com/nlp"}}
/// ```
public struct SavedRemotes: Sendable {
    public static let fileName = "remotes.json"
    public let path: String

    /// The saved remotes of the registry in `home`.
    public init(home: String) {
        path = home + "/" + Self.fileName
    }

    private struct File: Codable {
        var remotes: [String: String]
    }

    /// Every saved remote, sorted by name.
    public func all() throws -> [(name: String, location: RemoteLocation)] {
        try load().sorted { $0.key < $1.key }.map { (name: $0.key, location: try RemoteLocation(parsing: $0.value)) }
    }

    /// The remote saved under `name`, or nil.
    public func location(named name: String) throws -> RemoteLocation? {
        try load()[name].map { try RemoteLocation(parsing: $0) }
    }

    /// Saves (or replaces) a remote. A URL holding credentials is refused: they belong in the
    /// environment, not in a file.
    public func add(name: String, url: String) throws -> RemoteLocation {
        try Self.validateName(name)
        let location = try RemoteLocation(parsing: url)
        guard location.credentials == nil else {
            throw QuiverError(
                .invalidInput,
                "remote URL for '\(name)' holds credentials; save \(location) and set QUIVER_USERNAME/QUIVER_PASSWORD or QUIVER_TOKEN instead")
        }
        var remotes = try load()
        remotes[name] = location.description
        try save(remotes)
        return location
    }

    /// Forgets a saved remote.
    public func remove(name: String) throws {
        var remotes = try load()
        guard remotes.removeValue(forKey: name) != nil else {
            throw QuiverError(.notFound, "no remote named '\(name)' (see `quiver remote list`)")
        }
        try save(remotes)
    }

    /// A remote name: lower-case letters, digits, `.`, `_`, `-`, starting with a letter or digit.
    public static func validateName(_ name: String) throws {
        guard name.wholeMatch(of: /[a-z0-9][a-z0-9._-]{0,63}/) != nil else {
            throw QuiverError(.invalidName, "invalid remote name '\(name)': use up to 64 lower-case letters, digits, '.', '_' or '-'")
        }
    }

    // MARK: - File

    private func load() throws -> [String: String] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        do {
            return try JSONDecoder().decode(File.self, from: data).remotes
        } catch {
            throw QuiverError(.invalidInput, "\(path): not a remotes file (\(error))")
        }
    }

    private func save(_ remotes: [String: String]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let bytes = [UInt8](try encoder.encode(File(remotes: remotes))) + [0x0A]
        try AtomicFile.write(bytes, to: path)
    }
}
