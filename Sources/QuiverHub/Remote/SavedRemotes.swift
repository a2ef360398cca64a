import Foundation
import QuiverModel
import QuiverStore

/// The remotes saved with `quiver remote add NAME URL [--insecure]`, in `remotes.json` of the
/// registry folder. The file holds names and URLs only, never credentials; it is replaced atomically
/// on every change. A remote is its URL, or an object when it is marked insecure (so files without
/// insecure remotes read as they always did):
///
/// ```json
/// {"remotes": {"team": "https://registry.example.com/nlp", "lab": {"url": "http://10.0.0.5:5000/nlp", "insecure": true}}}
/// ```
public struct SavedRemotes: Sendable {
    public static let fileName = "remotes.json"
    public let path: String

    /// The saved remotes of the registry in `home`.
    public init(home: String) {
        path = home + "/" + Self.fileName
    }

    private struct File: Codable {
        var remotes: [String: Entry]
    }

    /// One saved remote: `"URL"`, or `{"url": "URL", "insecure": true}`.
    private struct Entry: Codable {
        var url: String
        var insecure = false

        enum CodingKeys: String, CodingKey { case url, insecure }

        init(url: String, insecure: Bool) {
            self.url = url
            self.insecure = insecure
        }

        init(from decoder: any Decoder) throws {
            if let url = try? decoder.singleValueContainer().decode(String.self) {
                self.url = url
                return
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            url = try container.decode(String.self, forKey: .url)
            insecure = try container.decodeIfPresent(Bool.self, forKey: .insecure) ?? false
        }

        func encode(to encoder: any Encoder) throws {
            guard insecure else {
                var container = encoder.singleValueContainer()
                try container.encode(url)
                return
            }
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(url, forKey: .url)
            try container.encode(insecure, forKey: .insecure)
        }

        func location() throws -> RemoteLocation {
            var location = try RemoteLocation(parsing: url)
            location.insecure = insecure
            return location
        }
    }

    /// Every saved remote, sorted by name.
    public func all() throws -> [(name: String, location: RemoteLocation)] {
        try load().sorted { $0.key < $1.key }.map { (name: $0.key, location: try $0.value.location()) }
    }

    /// The remote saved under `name`, or nil.
    public func location(named name: String) throws -> RemoteLocation? {
        try load()[name].map { try $0.location() }
    }

    /// Saves (or replaces) a remote. A URL holding credentials is refused: they belong in the
    /// environment, not in a file. `insecure` lets credentials go to it over plain http.
    public func add(name: String, url: String, insecure: Bool = false) throws -> RemoteLocation {
        try Self.validateName(name)
        var location = try RemoteLocation(parsing: url)
        guard location.credentials == nil else {
            throw QuiverError(
                .invalidInput,
                "remote URL for '\(name)' holds credentials; save \(location) and set QUIVER_USERNAME/QUIVER_PASSWORD or QUIVER_TOKEN instead")
        }
        location.insecure = insecure
        var remotes = try load()
        remotes[name] = Entry(url: location.description, insecure: insecure)
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

    private func load() throws -> [String: Entry] {
        guard let data = FileManager.default.contents(atPath: path) else { return [:] }
        do {
            return try JSONDecoder().decode(File.self, from: data).remotes
        } catch {
            throw QuiverError(.invalidInput, "\(path): not a remotes file (\(error))")
        }
    }

    private func save(_ remotes: [String: Entry]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let bytes = [UInt8](try encoder.encode(File(remotes: remotes))) + [0x0A]
        try AtomicFile.write(bytes, to: path)
    }
}
