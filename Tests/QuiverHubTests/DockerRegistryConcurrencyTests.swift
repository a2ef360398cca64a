import Foundation
import QuiverHub
import QuiverStore
import QuiverModel
import Testing

/// Many clients at once against one registry.
@Suite(.enabled(if: DockerRegistryServer.shouldRun, "docker-registry is not installed"))
struct DockerRegistryConcurrencyTests {
    @Test func sixteenClientsPushAndPullWithoutError() async throws {
        let workspace = try Workspace()
        try await DockerRegistryServer.with { server in
            try await RemoteScenarios.sixteenClientsPushAndPull(server, workspace: workspace)
        }
    }
}
