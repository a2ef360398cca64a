import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import QuiverModel
import QuiverStore

/// The router of `quiver serve` over `registry`: the OCI distribution endpoint (`/v2/`), the JSON
/// API (`/api/`), the web page (`/`) and inference (`/v1/infer`).
///
/// Tests build this exact router and drive it without a socket:
///
/// ```swift
/// let app = Application(router: try buildRouter(settings: settings, registry: registry))
/// try await app.test(.router) { client in
///     try await client.execute(uri: "/v2/_catalog", method: .get) { #expect($0.status == .ok) }
/// }
/// ```
public func buildRouter(settings: ServerSettings, registry: Registry) throws -> Router<HubRequestContext> {
    try buildRouter(settings: settings, registry: registry, uploads: UploadStore(home: registry.home, limits: settings.limits))
}

func buildRouter(settings: ServerSettings, registry: Registry, uploads: UploadStore) throws -> Router<HubRequestContext> {
    let engine = InferenceEngine(registry: registry, limits: settings.limits)
    let router = Router(context: HubRequestContext.self)
    router.add(middleware: LogRequestsMiddleware(.info))
    router.add(middleware: HostCheck(allowList: try HostAllowList(listenHost: settings.host, publicURLs: settings.publicURLs)))
    router.add(middleware: AccessControl(
        token: settings.token, anonymousRead: settings.anonymousRead, readOnly: settings.anonymousWrites == .readOnly,
        service: settings.namespace, namespace: settings.namespace))
    router.addRoutes(
        DistributionController(registry: registry, uploads: uploads, imports: ImportCoalescer(), token: settings.token, namespace: settings.namespace, limits: settings.limits).endpoints,
        atPath: "/v2")
    router.addRoutes(CatalogController(registry: registry, largestPage: settings.limits.pageSize).endpoints, atPath: "/api")
    router.addRoutes(InferenceController(engine: engine, limits: settings.limits).endpoints, atPath: "/v1")
    router.addRoutes(WebController(registry: registry, namespace: settings.namespace).endpoints)
    return router
}

/// The `quiver serve` application: `buildRouter` on a socket at `settings.host:settings.port`.
///
/// - Parameters:
///   - registry: the registry served (default: the one at `settings.home`).
///   - onRunning: called with the port once the server listens (useful with port 0).
public func buildApplication(
    settings: ServerSettings, registry: Registry? = nil, logger: Logger? = nil,
    onRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let registry = try registry ?? Registry(home: settings.home)
    let logger = logger ?? {
        var logger = Logger(label: "quiver-serve")
        logger.logLevel = .info
        return logger
    }()
    let uploads = try UploadStore(home: registry.home, limits: settings.limits)
    return Application(
        router: try buildRouter(settings: settings, registry: registry, uploads: uploads),
        server: httpServer(limits: settings.limits),
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "quiver"),
        services: [UploadExpiry(uploads: uploads, interval: settings.limits.expiryInterval)],
        onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? settings.port) },
        logger: logger)
}

/// HTTP/1.1 connections as `quiver serve` accepts them: closed after `connectionIdleTimeout` without
/// a byte (between requests, or within a body), and watched for clients that leave
/// (`ClientDeparture`).
func httpServer(limits: ServerLimits) -> HTTPServerBuilder {
    .http1(configuration: HTTP1Channel.Configuration(
        additionalChannelHandlers: [ClientDeparture()], idleTimeout: .milliseconds(Int64(limits.connectionIdleTimeout * 1000))))
}

/// Runs `quiver serve` until the process is told to stop (SIGINT or SIGTERM).
///
/// - Throws: `QuiverError(.io)` naming the address when the socket cannot be opened (a port in
///   use, an address of no interface, a host that does not resolve).
public func runServer(settings: ServerSettings, onRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }) async throws {
    let app = try buildApplication(settings: settings, onRunning: onRunning)
    do {
        try await app.runService()
    } catch let error as IOError {
        throw QuiverError(.io, "cannot listen on \(settings.host):\(settings.port): \(String(cString: strerror(error.errnoCode)))")
    } catch is SocketAddressError.UnknownHost {
        throw QuiverError(.io, "cannot listen on \(settings.host):\(settings.port): the host does not resolve to an address")
    }
}
