import Hummingbird
import NIOCore
import QuiverModel

/// The request context of every route of `quiver serve`: Hummingbird's core context, plus the
/// client's address (for per-client limits) and its connection (to notice a client that leaves).
public struct HubRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address, or nil when unknown (requests made in process by tests).
    public let clientAddress: String?
    let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress
        channel = source.channel
    }

    /// Runs `body`, cancelling it when the client leaves (closes its connection or its sending side)
    /// before it ends: work that waits its turn for a client that is gone is not done.
    func cancellingWhenClientLeaves<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let work = Task { try await body() }
        let watch = try? await channel.pipeline.handler(type: ClientDeparture.self).get()
        let watching = watch?.whenGone { work.cancel() }
        defer { if let watching { watch?.forget(watching) } }
        return try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
    }
}

/// A channel handler that tells when the client has left: the connection closed, or the client shut
/// its sending side (HTTP clients do not, while they still want an answer).
final class ClientDeparture: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny  // passed on untouched

    private struct State {
        var gone = false
        var nextID = 0
        var actions: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Locked(State())

    /// Runs `action` once the client has left (at once if it already has); `forget` the returned
    /// number when it is no longer needed.
    func whenGone(_ action: @escaping @Sendable () -> Void) -> Int {
        let (id, gone) = state.withLock { state in
            state.nextID += 1
            if !state.gone { state.actions[state.nextID] = action }
            return (state.nextID, state.gone)
        }
        if gone { action() }
        return id
    }

    func forget(_ id: Int) {
        state.withLock { _ = $0.actions.removeValue(forKey: id) }
    }

    private func departed() {
        let actions = state.withLock { state in
            state.gone = true
            defer { state.actions.removeAll() }
            return Array(state.actions.values)
        }
        for action in actions { action() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        departed()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .inputClosed? = event as? ChannelEvent { departed() }
        context.fireUserInboundEventTriggered(event)
    }
}
