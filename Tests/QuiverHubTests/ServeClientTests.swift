import Foundation
import QuiverHub
import QuiverStore
import QuiverModel
import Testing

/// Quiver's own client against `quiver serve` on a socket: the scenarios docker-registry passes,
/// and the server's token.
@Suite struct ServeClientTests {
    static let token = "serve-client-token"

    /// `quiver push --to` without the token is refused with 401 and leaves the server as it was;
    /// with `QUIVER_TOKEN` the command-line round trip goes through.
    @Test func commandLineRoundTripNeedsTheTokenToPush() async throws {
        let workspace = try Workspace()
        let served = try workspace.empty("served")
        let publisher = QuiverProcess(home: try workspace.source("publisher").home)
        try await QuiverServeServer.with(registry: served, token: Self.token) { server in
            let before = try Snapshot(served)
            // Without a token the client follows the challenge to the server's token endpoint,
            // which wants the token too; a wrong token is refused outright.
            let expected = [
                "": "gave no token for repository:quiver/base/tiny-bert:pull,push: it answered 401 and needs credentials (QUIVER_TOKEN or --token",
                "wrong": "refused to start an upload into quiver/base/tiny-bert: 401 UNAUTHORIZED: authentication required",
            ]
            for (token, message) in expected {
                let refused = try await publisher.runDetached(
                    ["push", "review", "--to", server.url + "/quiver"], environment: ["QUIVER_TOKEN": token, "QUIVER_REMOTE": server.url + "/quiver"])
                #expect(refused.status == 1)
                let lines = refused.stderr.split(separator: "\n")
                #expect(lines.last?.hasPrefix("quiver: ") == true && lines.last?.contains(message) == true, "\(refused.stderr)")
                #expect(lines.dropLast().allSatisfy { !$0.hasPrefix("quiver: ") }, "one error line: \(refused.stderr)")
                #expect(!refused.stderr.contains(Self.token))
            }
            #expect(try Snapshot(served) == before)
            #expect(server.stagedUploads().isEmpty)

            try await RemoteScenarios.commandLineRoundTrip(server, workspace: workspace, token: Self.token)
            #expect(server.stagedUploads().isEmpty, "taken blobs leave the staging folder")
        }
        #expect(try served.verify().isIntact)
    }

    /// Half the clients upload in chunks (PATCH), the others whole.
    @Test func sixteenClientsPushAndPullWithoutError() async throws {
        let workspace = try Workspace()
        let served = try workspace.empty("served")
        try await QuiverServeServer.with(registry: served) { server in
            try await RemoteScenarios.sixteenClientsPushAndPull(server, workspace: workspace) { index in
                index.isMultiple(of: 2) ? chunkedOptions : TransferOptions()
            }
        }
        #expect(try served.verify().isIntact)
    }

    @Test func damagedBlobOnTheServerIsRefusedAndNothingIsStored() async throws {
        let workspace = try Workspace()
        let served = try workspace.empty("served")
        try await QuiverServeServer.with(registry: served) { server in
            try await RemoteScenarios.damagedBlobIsRefusedAndNothingIsStored(server, workspace: workspace)
        }
    }

    @Test func batchesStandEachVersionAlone() async throws {
        let workspace = try Workspace()
        let served = try workspace.empty("served")
        try await QuiverServeServer.with(registry: served) { server in
            try await RemoteScenarios.batchesStandEachVersionAlone(server, workspace: workspace)
        }
    }
}
