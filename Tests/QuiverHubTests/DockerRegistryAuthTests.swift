import Foundation
import QuiverHub
import QuiverStore
import QuiverModel
import Testing

/// Basic authentication against `docker-registry` with an htpasswd file.
@Suite(.enabled(if: DockerRegistryServer.shouldRun, "docker-registry is not installed"))
struct DockerRegistryAuthTests {
    /// `quiver` / `s3cret-pass`, bcrypt (cost 4: the registry checks it on every request).
    static let htpasswd = "quiver:$2b$04$Rd7v3SdtEGZsbPV808kQhOpcaVDOa9/o3ddrgNW2.e1ugcpQXVVh2"
    static let password = "s3cret-pass"

    @Test func unauthenticatedPushIsRefusedWith401AndNothingIsStored() async throws {
        let workspace = try Workspace()
        let source = try workspace.source()
        let before = try Snapshot(source)
        try await DockerRegistryServer.with(htpasswd: Self.htpasswd) { server in
            let error = await #expect(throws: QuiverError.self) {
                try await server.withClient { client in
                    try await RemotePush(registry: source, client: client).push(Reference(parsing: "sentiment"))
                }
            }
            #expect(error?.message.contains("401") == true, "\(error?.message ?? "")")
            #expect(error?.message.contains("authentication required") == true, "\(error?.message ?? "")")
            #expect(server.blobFiles().isEmpty)
            #expect((try? FileManager.default.contentsOfDirectory(atPath: server.repositoriesFolder)) ?? [] == [])
            let requests = try await server.requests()
            #expect(requests.allSatisfy { $0.hasSuffix(" 401") }, "\(requests)")
        }
        #expect(try Snapshot(source) == before)
    }

    @Test func wrongPasswordIsRefusedWithoutShowingIt() async throws {
        let workspace = try Workspace()
        let source = try workspace.source()
        try await DockerRegistryServer.with(htpasswd: Self.htpasswd) { server in
            let credentials = RemoteCredentials(basic: BasicCredentials(username: "quiver", password: "not-the-password"))
            let error = await #expect(throws: QuiverError.self) {
                try await server.withClient(credentials: credentials) { client in
                    try await RemotePush(registry: source, client: client).push(Reference(parsing: "sentiment"))
                }
            }
            let message = error?.message ?? ""
            #expect(message.contains("credentials were refused"), "\(message)")
            #expect(!message.contains("not-the-password"))
            #expect("\(credentials)" == "basic quiver:<hidden>")
            #expect(server.blobFiles().isEmpty)
        }
    }

    @Test func basicCredentialsFromTheURLOrTheEnvironmentPushAndPull() async throws {
        let workspace = try Workspace()
        let source = try workspace.source()
        let destination = try workspace.empty("destination")
        try await DockerRegistryServer.with(htpasswd: Self.htpasswd) { server in
            // In the URL.
            let withUser = try RemoteLocation(parsing: server.url.replacingOccurrences(of: "://", with: "://quiver:\(Self.password)@") + "/quiver")
            #expect(!withUser.description.contains(Self.password))
            let credentials = RemoteCredentials.resolve(for: withUser, token: nil, environment: [:])
            try await DistributionClient.with(location: withUser, credentials: credentials) { client in
                _ = try await RemotePush(registry: source, client: client).push(Reference(parsing: "review"))
            }
            // In the environment.
            let environment = ["QUIVER_USERNAME": "quiver", "QUIVER_PASSWORD": Self.password, "QUIVER_REMOTE": server.url + "/quiver"]
            let report = try await DistributionClient.with(remote: nil, home: destination.home, token: nil, environment: environment) { client in
                try await RemotePull(registry: destination, client: client).pull(Reference(parsing: "review"))
            }
            #expect(report.imported.count == 4)
        }
        #expect(try destination.list().map(\.digest) == source.list().map(\.digest))
        // Credentials never reach the registry folder.
        for file in try FileManager.default.subpathsOfDirectory(atPath: destination.home) where !file.hasPrefix("blobs") {
            let path = destination.home + "/" + file
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            #expect(!String(decoding: data, as: UTF8.self).contains(Self.password), "\(file)")
        }
    }
}
