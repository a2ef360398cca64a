import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import QuiverHub
import QuiverStore
import QuiverModel
import Testing

/// The distribution spec's token flow against a small in-test server: a `401` with
/// `WWW-Authenticate: Bearer realm=…,service=…,scope=…`, a token service that wants basic
/// credentials, then the request again with the token.
@Suite struct ClientTokenAuthTests {
    /// What the fake registry saw.
    final class Log: Sendable {
        let tokenRequests = Locked<[String]>([])
        let authorizations = Locked<[String]>([])
    }

    static let token = "issued-token-42"
    static let basic = BasicCredentials(username: "alice", password: "wonderland")

    /// `/v2/<ns>/<task>/tags/list` needs the issued token (or a static one, `static-token`);
    /// `/token` issues it for alice's basic credentials.
    static func application(log: Log) -> some ApplicationProtocol {
        let router = Router()
        router.get("/v2/:namespace/:task/tags/list") { request, context -> Response in
            let authorization = request.headers[.authorization] ?? ""
            log.authorizations.withLock { $0.append(authorization) }
            let task = context.parameters.get("task") ?? ""
            guard authorization == "Bearer \(token)" || authorization == "Bearer static-token" else {
                let realm = "http://\(request.head.authority ?? "127.0.0.1")/token"
                var headers = HTTPFields()
                headers[.wwwAuthenticate] = "Bearer realm=\"\(realm)\",service=\"fake-registry\",scope=\"repository:team/\(task):pull\""
                headers[.contentType] = "application/json"
                let body = #"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository","Name":"team/x","Action":"pull"}]}]}"#
                return Response(status: .unauthorized, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"name":"team/\#(task)","tags":["1","latest"]}"#)))
        }
        router.get("/token") { request, _ -> Response in
            let query = request.uri.query ?? ""
            log.tokenRequests.withLock { $0.append(query) }
            guard request.headers[.authorization] == basic.headerValueForTests else {
                return Response(status: .unauthorized)
            }
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"token":"\#(token)","expires_in":300}"#)))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    @Test func challengeBuysATokenOncePerScope() async throws {
        let log = Log()
        try await Self.application(log: log).test(.live) { testClient in
            let location = try RemoteLocation(parsing: "http://127.0.0.1:\(testClient.port!)/team")
            try await DistributionClient.with(location: location, credentials: RemoteCredentials(basic: Self.basic)) { client in
                let first = try await client.tags(of: "team/sentiment")
                let second = try await client.tags(of: "team/sentiment")
                #expect(first == ["1", "latest"] && second == first)
                #expect(await client.tokensFetched == 1, "the token is cached for its scope")
                let other = try await client.tags(of: "team/topic")
                #expect(other == ["1", "latest"])
                #expect(await client.tokensFetched == 2, "another repository is another scope")
            }
        }
        let queries = log.tokenRequests.withLock { $0 }
        #expect(queries.count == 2)
        #expect(queries.first?.contains("service=fake-registry") == true)
        #expect(queries.first?.contains("scope=repository:team/sentiment:pull") == true || queries.first?.contains("scope=repository%3Ateam%2Fsentiment%3Apull") == true, "\(queries)")
        let sent = log.authorizations.withLock { $0 }
        #expect(sent.filter { $0 == "Bearer \(Self.token)" }.count == 3)
    }

    @Test func staticTokenIsSentAsBearer() async throws {
        let log = Log()
        try await Self.application(log: log).test(.live) { testClient in
            let location = try RemoteLocation(parsing: "http://127.0.0.1:\(testClient.port!)/team")
            let environment = ["QUIVER_TOKEN": "static-token", "QUIVER_REMOTE": location.description]
            let credentials = RemoteCredentials.resolve(for: location, token: nil, environment: environment)
            let tags = try await DistributionClient.with(location: location, credentials: credentials) { client in
                try await client.tags(of: "team/sentiment")
            }
            #expect(tags == ["1", "latest"])
        }
        #expect(log.authorizations.withLock { $0 } == ["Bearer static-token"])
        #expect(log.tokenRequests.withLock { $0 }.isEmpty)
    }

    @Test func tokenServiceRefusalIsReportedWithoutCredentials() async throws {
        let log = Log()
        try await Self.application(log: log).test(.live) { testClient in
            let location = try RemoteLocation(parsing: "http://127.0.0.1:\(testClient.port!)/team")
            let wrong = RemoteCredentials(basic: BasicCredentials(username: "alice", password: "looking-glass"))
            let error = await #expect(throws: QuiverError.self) {
                try await DistributionClient.with(location: location, credentials: wrong) { client in
                    try await client.tags(of: "team/sentiment")
                }
            }
            let message = error?.message ?? ""
            #expect(message.contains("refused the credentials"), "\(message)")
            #expect(!message.contains("looking-glass"))
        }
    }

    @Test func noCredentialsGivesTheSpecErrorAndAHint() async throws {
        let log = Log()
        try await Self.application(log: log).test(.live) { testClient in
            let location = try RemoteLocation(parsing: "http://127.0.0.1:\(testClient.port!)/team")
            let error = await #expect(throws: QuiverError.self) {
                try await DistributionClient.with(location: location, credentials: RemoteCredentials()) { client in
                    try await client.tags(of: "team/sentiment")
                }
            }
            // The anonymous token request is refused by the token service.
            #expect(error?.message.contains("needs credentials") == true, "\(error?.message ?? "")")
        }
    }
}

extension BasicCredentials {
    var headerValueForTests: String { "Basic " + Data("\(username):\(password)".utf8).base64EncodedString() }
}
