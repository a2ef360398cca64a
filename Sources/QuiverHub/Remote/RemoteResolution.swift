import Foundation
import QuiverModel
import QuiverStore

/// Turns what the user typed (`--to`, `--from`, `--remote`, or `QUIVER_REMOTE`) into a location.
public enum RemoteResolution {
    /// A `REMOTE` argument: a URL (it contains `://`) or the name of a saved remote. Without an
    /// argument, `QUIVER_REMOTE` (itself a URL or a saved name).
    public static func location(
        _ argument: String?, home: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> RemoteLocation {
        guard let text = argument ?? environment["QUIVER_REMOTE"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            throw QuiverError(.invalidInput, "no remote given: pass one (a URL or a name saved with `quiver remote add`) or set QUIVER_REMOTE")
        }
        if text.contains("://") { return try RemoteLocation(parsing: text) }
        try SavedRemotes.validateName(text)
        guard let location = try SavedRemotes(home: home).location(named: text) else {
            throw QuiverError(.notFound, "no remote named '\(text)': save one with `quiver remote add \(text) URL`, or give http(s)://HOST[:PORT]/NAMESPACE")
        }
        return location
    }

    /// The default remote's value, when `QUIVER_REMOTE` is set.
    public static func defaultRemote(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        environment["QUIVER_REMOTE"].flatMap { $0.isEmpty ? nil : $0 }
    }
}

extension DistributionClient {
    /// Runs `body` with a client of the remote named by `remote` (a URL or saved name; nil means
    /// `QUIVER_REMOTE`), its credentials taken from `token`, the URL and the environment (see
    /// `RemoteCredentials.resolve`).
    public static func with<T: Sendable>(
        remote: String?, home: String, token: String?, options: TransferOptions = TransferOptions(),
        environment: [String: String] = ProcessInfo.processInfo.environment,
        _ body: (DistributionClient) async throws -> T
    ) async throws -> T {
        let location = try RemoteResolution.location(remote, home: home, environment: environment)
        let credentials = RemoteCredentials.resolve(for: location, token: token, environment: environment, home: home)
        return try await with(location: location, credentials: credentials, options: options, body)
    }
}
